"""sbpfunc.testing"""
