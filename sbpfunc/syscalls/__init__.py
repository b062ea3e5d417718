"""sbpfunc.syscalls"""
