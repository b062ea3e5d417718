"""sbpfunc.vm"""
