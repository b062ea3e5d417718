"""sbpfunc.toolchain"""
