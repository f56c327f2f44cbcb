package vec32

func selectPath(p kernelPath) { useAsm, useAVX512 = p.asm, p.avx512 }
