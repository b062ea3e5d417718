"""sbpfunc.modules"""
