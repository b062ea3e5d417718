# mem_sort.s: fill N u64 on the heap with an LCG, then insertion-sort them; loads, stores, calls.
entrypoint:
    ldxdw r9, [r2+0]          # N from instruction data
    lddw r6, 0x300000000      # heap
    mov64 r1, r6
    mov64 r2, r9
    call fill
    mov64 r1, r6
    mov64 r2, r9
    call sort
    mov64 r0, 0
    exit

# fill(ptr, n): ptr[i] = lcg(i)
fill:
    mov64 r3, 12345
    mov64 r4, 0
fill_loop:
    jge r4, r2, fill_done
    mul64 r3, 1103515245
    add64 r3, 12345
    and64 r3, 0x7fffffff
    stxdw [r1+0], r3
    add64 r1, 8
    add64 r4, 1
    ja fill_loop
fill_done:
    exit

# sort(ptr, n): insertion sort, with a helper call per element
sort:
    mov64 r7, 1
sort_outer:
    jge r7, r2, sort_done
    mov64 r8, r7
    lsh64 r8, 3
    add64 r8, r1
    call insert
    add64 r7, 1
    ja sort_outer
sort_done:
    exit

# insert(r1=base, r8=&a[i]): sift a[i] down
insert:
    ldxdw r3, [r8+0]
insert_loop:
    jeq r8, r1, insert_done
    ldxdw r4, [r8-8]
    jle r4, r3, insert_done
    stxdw [r8+0], r4
    sub64 r8, 8
    ja insert_loop
insert_done:
    stxdw [r8+0], r3
    exit
