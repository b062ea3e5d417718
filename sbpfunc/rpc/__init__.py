"""sbpfunc.rpc"""
