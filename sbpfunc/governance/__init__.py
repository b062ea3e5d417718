"""sbpfunc.governance"""
