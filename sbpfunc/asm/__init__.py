"""sbpfunc.asm"""
