"""sbpfunc.elf"""
