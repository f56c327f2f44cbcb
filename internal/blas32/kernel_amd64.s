#include "textflag.h"

// Register use in kern6x16:
//   Y0..Y11  accumulators, row r of the tile in Y(2r) (cols 0-7) and Y(2r+1)
//   Y12,Y13  the two 8-wide halves of the current B panel row
//   Y14,Y15  broadcasts of A elements (alternated so consecutive rows can
//            issue without waiting on each other)
//   AX       &A[row 0][p] of the current tile, R11 = &A[row 3][p]
//   R8       row stride of A in bytes, R9 column stride in bytes
//   R10      byte distance between consecutive rows of the B panel (64
//            when packed; ldb*4 when an untransposed B is read in place)
//   R12      &A[row 0][0] of the current tile, R13 = B panel
//   BX       B cursor, CX = C tile, DX = ldc in bytes
//   SI       k counter, DI = tiles left
// R14/R15 are avoided: R14 holds g and R15 is reserved for dynamic linking.

// One k step: rank-1 update of the 6×16 accumulator tile with column p of
// the A tile and row p of the B panel, then A and B move on to p+1.
#define STEP \
	VMOVUPS (BX), Y12; \
	VMOVUPS 32(BX), Y13; \
	VBROADCASTSS (AX), Y14; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VBROADCASTSS (AX)(R8*1), Y15; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS (AX)(R8*2), Y14; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VBROADCASTSS (R11), Y15; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS (R11)(R8*1), Y14; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VBROADCASTSS (R11)(R8*2), Y15; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11; \
	ADDQ R9, AX; \
	ADDQ R9, R11; \
	ADDQ R10, BX

// Row store without beta: C = alpha*acc (Y14 = alpha). C is not read, so
// NaNs already in C cannot leak into the result.
#define STORE0(lo, hi, addr, addr32) \
	VMULPS Y14, lo, lo; \
	VMULPS Y14, hi, hi; \
	VMOVUPS lo, addr; \
	VMOVUPS hi, addr32

// Row store with beta: C = alpha*acc + beta*C (Y14 = alpha, Y15 = beta).
#define STOREB(lo, hi, addr, addr32) \
	VMULPS Y14, lo, lo; \
	VMULPS Y14, hi, hi; \
	VMOVUPS addr, Y12; \
	VMOVUPS addr32, Y13; \
	VFMADD231PS Y15, Y12, lo; \
	VFMADD231PS Y15, Y13, hi; \
	VMOVUPS lo, addr; \
	VMOVUPS hi, addr32

// func kern6x16(kc int, a *float32, rsa, csa, astep int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, nt int)
TEXT ·kern6x16(SB), NOSPLIT, $0-88
	MOVQ rsa+16(FP), R8
	SHLQ $2, R8
	MOVQ csa+24(FP), R9
	SHLQ $2, R9
	MOVQ bs+48(FP), R10
	SHLQ $2, R10
	MOVQ a+8(FP), R12
	MOVQ b+40(FP), R13
	MOVQ c+56(FP), CX
	MOVQ ldc+64(FP), DX
	SHLQ $2, DX
	MOVQ nt+80(FP), DI

tile:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ R12, AX
	LEAQ (R12)(R8*2), R11
	ADDQ R8, R11
	MOVQ R13, BX
	MOVQ kc+0(FP), SI
	CMPQ SI, $4
	JLT  tail

loop4:
	STEP
	STEP
	STEP
	STEP
	SUBQ $4, SI
	CMPQ SI, $4
	JGE  loop4

tail:
	TESTQ SI, SI
	JZ    store

loop1:
	STEP
	DECQ SI
	JNZ  loop1

store:
	VBROADCASTSS alpha+72(FP), Y14
	LEAQ         (CX)(DX*2), R11
	ADDQ         DX, R11
	MOVL         beta+76(FP), SI

	// beta == ±0 means "overwrite": test the bits without the sign.
	ANDL $0x7fffffff, SI
	JNZ  withbeta
	STORE0(Y0, Y1, (CX), 32(CX))
	STORE0(Y2, Y3, (CX)(DX*1), 32(CX)(DX*1))
	STORE0(Y4, Y5, (CX)(DX*2), 32(CX)(DX*2))
	STORE0(Y6, Y7, (R11), 32(R11))
	STORE0(Y8, Y9, (R11)(DX*1), 32(R11)(DX*1))
	STORE0(Y10, Y11, (R11)(DX*2), 32(R11)(DX*2))
	JMP  next

withbeta:
	VBROADCASTSS beta+76(FP), Y15
	STOREB(Y0, Y1, (CX), 32(CX))
	STOREB(Y2, Y3, (CX)(DX*1), 32(CX)(DX*1))
	STOREB(Y4, Y5, (CX)(DX*2), 32(CX)(DX*2))
	STOREB(Y6, Y7, (R11), 32(R11))
	STOREB(Y8, Y9, (R11)(DX*1), 32(R11)(DX*1))
	STOREB(Y10, Y11, (R11)(DX*2), 32(R11)(DX*2))

next:
	// Next row tile: A moves by astep (SI is free here), C by 6 rows.
	MOVQ astep+32(FP), SI
	SHLQ $2, SI
	ADDQ SI, R12
	LEAQ (R11)(DX*2), CX
	ADDQ DX, CX
	DECQ DI
	JNZ  tile

	VZEROUPPER
	RET

// Transpose of the 8×8 block whose rows are in Y0..Y7 into columns in
// Y8..Y15 (column c in Y(8+c)), via the usual unpack / shuffle / lane-permute
// ladder. Clobbers Y0..Y7.
#define TRANSPOSE8X8 \
	VUNPCKLPS  Y1, Y0, Y8; \
	VUNPCKHPS  Y1, Y0, Y9; \
	VUNPCKLPS  Y3, Y2, Y10; \
	VUNPCKHPS  Y3, Y2, Y11; \
	VUNPCKLPS  Y5, Y4, Y12; \
	VUNPCKHPS  Y5, Y4, Y13; \
	VUNPCKLPS  Y7, Y6, Y14; \
	VUNPCKHPS  Y7, Y6, Y15; \
	VSHUFPS    $0x44, Y10, Y8, Y0; \
	VSHUFPS    $0xEE, Y10, Y8, Y1; \
	VSHUFPS    $0x44, Y11, Y9, Y2; \
	VSHUFPS    $0xEE, Y11, Y9, Y3; \
	VSHUFPS    $0x44, Y14, Y12, Y4; \
	VSHUFPS    $0xEE, Y14, Y12, Y5; \
	VSHUFPS    $0x44, Y15, Y13, Y6; \
	VSHUFPS    $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// Load 8 consecutive floats from each of 4 rows starting at base.
#define LOAD4(base, r0, r1, r2, r3) \
	VMOVUPS (base), r0; \
	VMOVUPS (base)(R8*1), r1; \
	VMOVUPS (base)(R8*2), r2; \
	VMOVUPS (base)(R9*1), r3

// Store the 8 transposed columns as the left (off 0) or right (off 32) half
// of 8 consecutive 16-float panel rows.
#define STORE8(off) \
	VMOVUPS Y8, off(DX); \
	VMOVUPS Y9, off+64(DX); \
	VMOVUPS Y10, off+128(DX); \
	VMOVUPS Y11, off+192(DX); \
	VMOVUPS Y12, off+256(DX); \
	VMOVUPS Y13, off+320(DX); \
	VMOVUPS Y14, off+384(DX); \
	VMOVUPS Y15, off+448(DX)

// func packBT16(dst, b *float32, ldb, groups int)
//
// dst[p*16+j] = b[j*ldb+p] for j < 16, p < 8*groups: 8 p values at a time,
// as two 8×8 transposes (source rows 0-7 and 8-15).
TEXT ·packBT16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DX
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ groups+24(FP), CX
	LEAQ (SI)(R8*4), DI
	LEAQ (DI)(R8*4), R10
	LEAQ (R10)(R8*4), R11

group:
	LOAD4(SI, Y0, Y1, Y2, Y3)
	LOAD4(DI, Y4, Y5, Y6, Y7)
	TRANSPOSE8X8
	STORE8(0)
	LOAD4(R10, Y0, Y1, Y2, Y3)
	LOAD4(R11, Y4, Y5, Y6, Y7)
	TRANSPOSE8X8
	STORE8(32)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $512, DX
	DECQ CX
	JNZ  group

	VZEROUPPER
	RET
