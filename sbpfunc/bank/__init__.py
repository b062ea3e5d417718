"""sbpfunc.bank"""
