# demo.s: computes 10! with a recursive call, logs it, and returns 0.
entrypoint:
    mov64 r1, 10
    call factorial
    mov64 r6, r0
    lddw r1, message
    mov64 r2, 18
    call sol_log_
    mov64 r1, r6
    mov64 r2, 0
    mov64 r3, 0
    mov64 r4, 0
    mov64 r5, 0
    call sol_log_64_
    mov64 r0, 0
    exit

# factorial(n) = n * factorial(n - 1), factorial(0) = 1
factorial:
    mov64 r0, 1
    jeq r1, 0, done
    mov64 r6, r1
    sub64 r1, 1
    call factorial
    mul64 r0, r6
done:
    exit

.rodata
message: .ascii "10! computed below"
