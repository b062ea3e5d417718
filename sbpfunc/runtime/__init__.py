"""sbpfunc.runtime"""
