#include "textflag.h"

// kern12x16 is the AVX-512 micro-kernel, with kernelGo's contract for
// mr = 12 (B's rows bs elements apart: 16 when packed, ldb when read in
// place): each 12x16 tile of C is computed as rows 0-5 and rows 6-11 of A
// (6*rsa apart) against the 16-wide B panel. Twelve rows give twelve
// independent accumulator chains, enough to keep two 512-bit FMA pipes busy
// through the FMA latency.
//
// Register use:
//   Z0..Z11  accumulators, row r of the pair in Z(r)
//   Z12      the current 16-wide B panel row; Z13 alpha, Z14 beta
//   AX, R11  &A[row 0][p] and &A[row 3][p]
//   R10, R13 &A[row 6][p] and &A[row 9][p]
//   R8, R9   row and column stride of A in bytes
//   R12      &A[row 0][0] of the tile, BX = B cursor, CX = C of the tile,
//   DX       ldc in bytes, SI = k counter, DI = B's row stride in bytes
// The count of tiles left is kept in the nt argument's slot.
// The A elements are broadcast from memory by the FMAs themselves.

#define STEP512 \
	VMOVUPS (BX), Z12; \
	VFMADD231PS.BCST (AX), Z12, Z0; \
	VFMADD231PS.BCST (AX)(R8*1), Z12, Z1; \
	VFMADD231PS.BCST (AX)(R8*2), Z12, Z2; \
	VFMADD231PS.BCST (R11), Z12, Z3; \
	VFMADD231PS.BCST (R11)(R8*1), Z12, Z4; \
	VFMADD231PS.BCST (R11)(R8*2), Z12, Z5; \
	VFMADD231PS.BCST (R10), Z12, Z6; \
	VFMADD231PS.BCST (R10)(R8*1), Z12, Z7; \
	VFMADD231PS.BCST (R10)(R8*2), Z12, Z8; \
	VFMADD231PS.BCST (R13), Z12, Z9; \
	VFMADD231PS.BCST (R13)(R8*1), Z12, Z10; \
	VFMADD231PS.BCST (R13)(R8*2), Z12, Z11; \
	ADDQ R9, AX; \
	ADDQ R9, R11; \
	ADDQ R9, R10; \
	ADDQ R9, R13; \
	ADDQ DI, BX

// Row stores under the column mask K1: C = alpha*acc; C = alpha*acc +
// beta*C with a fused multiply-add (as the AVX2 kernel's full tiles); and
// the same unfused (as mergeTile, which the AVX2 path uses for edge tiles),
// so that both paths give the same bits everywhere.
#define ROW0(acc, addr) \
	VMULPS  Z13, acc, acc; \
	VMOVUPS acc, K1, addr

#define ROWB(acc, addr) \
	VMULPS      Z13, acc, acc; \
	VMOVUPS.Z   addr, K1, Z15; \
	VFMADD231PS Z15, Z14, acc; \
	VMOVUPS     acc, K1, addr

#define ROWE(acc, addr) \
	VMULPS    Z13, acc, acc; \
	VMOVUPS.Z addr, K1, Z15; \
	VMULPS    Z14, Z15, Z15; \
	VADDPS    Z15, acc, acc; \
	VMOVUPS   acc, K1, addr

// Stop storing after row r when the tile has only r rows (SI).
#define LAST(r) \
	CMPQ SI, $r; \
	JLE  next

// The 12 rows of a tile, each stored with the macro st.
#define ROWS(st) \
	st(Z0, (AX)); \
	LAST(1); \
	st(Z1, (AX)(DX*1)); \
	LAST(2); \
	st(Z2, (AX)(DX*2)); \
	LAST(3); \
	st(Z3, (R11)); \
	LAST(4); \
	st(Z4, (R11)(DX*1)); \
	LAST(5); \
	st(Z5, (R11)(DX*2)); \
	LAST(6); \
	st(Z6, (R10)); \
	LAST(7); \
	st(Z7, (R10)(DX*1)); \
	LAST(8); \
	st(Z8, (R10)(DX*2)); \
	LAST(9); \
	st(Z9, (R13)); \
	LAST(10); \
	st(Z10, (R13)(DX*1)); \
	LAST(11); \
	st(Z11, (R13)(DX*2))

// func kern12x16(kc int, a *float32, rsa, csa, astep int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, nt, rows, unfused, cols int)
TEXT ·kern12x16(SB), NOSPLIT, $0-112
	MOVQ         rsa+16(FP), R8
	SHLQ         $2, R8
	MOVQ         csa+24(FP), R9
	SHLQ         $2, R9
	MOVQ         a+8(FP), R12
	MOVQ         bs+48(FP), DI
	SHLQ         $2, DI
	MOVQ         c+56(FP), CX
	MOVQ         ldc+64(FP), DX
	SHLQ         $2, DX
	VBROADCASTSS alpha+72(FP), Z13
	VBROADCASTSS beta+76(FP), Z14
	MOVQ         cols+104(FP), BX
	KMOVW        BX, K1

tile:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	MOVQ   R12, AX
	LEAQ   (R12)(R8*2), R11
	ADDQ   R8, R11
	LEAQ   (R8)(R8*2), R10
	LEAQ   (R12)(R10*2), R10
	LEAQ   (R10)(R8*2), R13
	ADDQ   R8, R13
	MOVQ   b+40(FP), BX
	MOVQ   kc+0(FP), SI
	CMPQ   SI, $4
	JLT    tail

loop4:
	STEP512
	STEP512
	STEP512
	STEP512
	SUBQ $4, SI
	CMPQ SI, $4
	JGE  loop4

tail:
	TESTQ SI, SI
	JZ    store

loop1:
	STEP512
	DECQ SI
	JNZ  loop1

store:
	// Row bases: AX rows 0-2, R11 rows 3-5, R10 rows 6-8, R13 rows 9-11.
	MOVQ CX, AX
	LEAQ (CX)(DX*2), R11
	ADDQ DX, R11
	LEAQ (R11)(DX*2), R10
	ADDQ DX, R10
	LEAQ (R10)(DX*2), R13
	ADDQ DX, R13
	MOVQ rows+88(FP), SI
	MOVL beta+76(FP), BX

	// beta == ±0 means "overwrite": test the bits without the sign.
	ANDL $0x7fffffff, BX
	JNZ  withbeta
	ROWS(ROW0)
	JMP  next

withbeta:
	CMPQ unfused+96(FP), $0
	JNE  edge
	ROWS(ROWB)
	JMP  next

edge:
	ROWS(ROWE)

next:
	// Next tile: A moves by astep, C by 12 rows.
	MOVQ astep+32(FP), SI
	SHLQ $2, SI
	ADDQ SI, R12
	LEAQ (R13)(DX*2), CX
	ADDQ DX, CX
	DECQ nt+80(FP)
	JNZ  tile

	VZEROUPPER
	RET

// kern4x16 and kern8x16 are kern12x16 for a single tile of at most 4 or 8
// rows (nt = 1: the ragged last row tile), computing only those rows: the
// same multiply-adds in the same order for every stored element, so the
// same bits, in a third or two thirds of the work. Registers as in
// kern12x16; only Z0..Z3 (Z0..Z7) accumulate.

#define STEP4 \
	VMOVUPS (BX), Z12; \
	VFMADD231PS.BCST (AX), Z12, Z0; \
	VFMADD231PS.BCST (AX)(R8*1), Z12, Z1; \
	VFMADD231PS.BCST (AX)(R8*2), Z12, Z2; \
	VFMADD231PS.BCST (R11), Z12, Z3; \
	ADDQ R9, AX; \
	ADDQ R9, R11; \
	ADDQ DI, BX

#define STEP8 \
	VMOVUPS (BX), Z12; \
	VFMADD231PS.BCST (AX), Z12, Z0; \
	VFMADD231PS.BCST (AX)(R8*1), Z12, Z1; \
	VFMADD231PS.BCST (AX)(R8*2), Z12, Z2; \
	VFMADD231PS.BCST (R11), Z12, Z3; \
	VFMADD231PS.BCST (R11)(R8*1), Z12, Z4; \
	VFMADD231PS.BCST (R11)(R8*2), Z12, Z5; \
	VFMADD231PS.BCST (R10), Z12, Z6; \
	VFMADD231PS.BCST (R10)(R8*1), Z12, Z7; \
	ADDQ R9, AX; \
	ADDQ R9, R11; \
	ADDQ R9, R10; \
	ADDQ DI, BX

#define ROWS4(st) \
	st(Z0, (AX)); \
	LAST(1); \
	st(Z1, (AX)(DX*1)); \
	LAST(2); \
	st(Z2, (AX)(DX*2)); \
	LAST(3); \
	st(Z3, (R11))

#define ROWS8(st) \
	ROWS4(st); \
	LAST(4); \
	st(Z4, (R11)(DX*1)); \
	LAST(5); \
	st(Z5, (R11)(DX*2)); \
	LAST(6); \
	st(Z6, (R10)); \
	LAST(7); \
	st(Z7, (R10)(DX*1))

// The arguments, the A and C row bases and the k loop of a short tile:
// step is STEP4 or STEP8.
#define SHORT_SETUP \
	MOVQ         rsa+16(FP), R8; \
	SHLQ         $2, R8; \
	MOVQ         csa+24(FP), R9; \
	SHLQ         $2, R9; \
	MOVQ         bs+48(FP), DI; \
	SHLQ         $2, DI; \
	MOVQ         c+56(FP), CX; \
	MOVQ         ldc+64(FP), DX; \
	SHLQ         $2, DX; \
	VBROADCASTSS alpha+72(FP), Z13; \
	VBROADCASTSS beta+76(FP), Z14; \
	MOVQ         cols+104(FP), BX; \
	KMOVW        BX, K1; \
	MOVQ         a+8(FP), AX; \
	LEAQ         (AX)(R8*2), R11; \
	ADDQ         R8, R11; \
	LEAQ         (R11)(R8*2), R10; \
	ADDQ         R8, R10; \
	MOVQ         b+40(FP), BX; \
	MOVQ         kc+0(FP), SI

// C's row bases for the stores: AX rows 0-2, R11 rows 3-5, R10 rows 6-7;
// SI the tile's rows, BX beta's bits.
#define SHORT_STORE_SETUP \
	MOVQ CX, AX; \
	LEAQ (CX)(DX*2), R11; \
	ADDQ DX, R11; \
	LEAQ (R11)(DX*2), R10; \
	ADDQ DX, R10; \
	MOVQ rows+88(FP), SI; \
	MOVL beta+76(FP), BX; \
	ANDL $0x7fffffff, BX

// func kern4x16(kc int, a *float32, rsa, csa, astep int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, nt, rows, unfused, cols int)
TEXT ·kern4x16(SB), NOSPLIT, $0-112
	SHORT_SETUP
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

loop4:
	STEP4
	DECQ SI
	JNZ  loop4

	SHORT_STORE_SETUP
	JNZ  withbeta
	ROWS4(ROW0)
	JMP  next

withbeta:
	CMPQ unfused+96(FP), $0
	JNE  edge
	ROWS4(ROWB)
	JMP  next

edge:
	ROWS4(ROWE)

next:
	VZEROUPPER
	RET

// func kern8x16(kc int, a *float32, rsa, csa, astep int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, nt, rows, unfused, cols int)
TEXT ·kern8x16(SB), NOSPLIT, $0-112
	SHORT_SETUP
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7

loop8:
	STEP8
	DECQ SI
	JNZ  loop8

	SHORT_STORE_SETUP
	JNZ  withbeta
	ROWS8(ROW0)
	JMP  next

withbeta:
	CMPQ unfused+96(FP), $0
	JNE  edge
	ROWS8(ROWB)
	JMP  next

edge:
	ROWS8(ROWE)

next:
	VZEROUPPER
	RET
