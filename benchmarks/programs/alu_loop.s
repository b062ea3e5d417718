# alu_loop.s: register-only mixing loop (xorshift-multiply), N iterations from instruction data.
# r0 ends with the low 32 bits of the hash (so Agave reports it as a custom error code if nonzero;
# the benchmark masks to 0 for a successful exit).
entrypoint:
    ldxdw r3, [r2+0]          # N from instruction data
    mov64 r0, 0x12345
    mov64 r4, 0
loop:
    mov64 r5, r0
    lsh64 r5, 13
    xor64 r0, r5
    mov64 r5, r0
    rsh64 r5, 7
    xor64 r0, r5
    mul64 r0, 0x2545F491
    add64 r0, r4
    add64 r4, 1
    jlt r4, r3, loop
    mov64 r0, 0
    exit
