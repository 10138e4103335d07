// Tests of symbolic dimensions: the normal form (equal expressions compare equal), floor and
// ceil division as conv/pool sizes need, min/max folding with sizes known non-negative, the
// text form and its parser, the boundary to GraphIR's Dim, and substitution of bindings.
import XCTest
import GraphIR
@testable import GraphOps

final class InferenceSymDimTests: XCTestCase {
    let seq = SymDim.symbol("seq"), batch = SymDim.symbol("batch"), h = SymDim.symbol("H")

    func testEqualExpressionsCompareEqual() {
        XCTAssertEqual(seq * SymDim(2), SymDim(2) * seq)
        XCTAssertEqual(batch * seq, seq * batch)
        XCTAssertEqual((seq + SymDim(1)) - SymDim(1), seq)
        XCTAssertEqual((SymDim(2) * seq).floorDiv(SymDim(2)), seq)
        XCTAssertEqual((batch * seq * SymDim(768)).exactDiv(batch * SymDim(12)), seq * SymDim(64))
        XCTAssertEqual((seq - seq).intValue, 0)
        XCTAssertNotEqual(seq, batch)
    }

    // The normal form merges equal products by sorting, not hashing: terms given in any
    // order, with atoms in any order, and cancelling terms must still meet.
    func testNormalFormMergesAndCancelsTermsInAnyOrder() {
        let sum1 = batch * seq + SymDim(3) * seq + SymDim(5) + h
        let sum2 = h + SymDim(5) + seq * SymDim(3) + seq * batch
        XCTAssertEqual(sum1, sum2)
        XCTAssertEqual(sum1 - seq * batch, SymDim(3) * seq + h + SymDim(5))
        XCTAssertEqual((sum1 - sum2).intValue, 0)
        XCTAssertEqual((batch + seq) * (seq + batch), batch * batch + SymDim(2) * batch * seq + seq * seq)
        XCTAssertEqual((batch + seq) * (batch - seq), batch * batch - seq * seq, "middle terms cancel")
        XCTAssertEqual(SymDim.normalized([SymTerm(atoms: [.symbol("seq")], coeff: 2), SymTerm(atoms: [], coeff: 4),
                                          SymTerm(atoms: [.symbol("seq")], coeff: -2)]).intValue, 4)
        XCTAssertEqual(SymDim.normalized([SymTerm(atoms: [.symbol("b"), .symbol("a")], coeff: 1),
                                          SymTerm(atoms: [.symbol("a"), .symbol("b")], coeff: 1)]).description, "2*a*b")
    }

    func testConvOutputSizesUseFloorDivision() throws {
        // (H - 3)/2 + 1 for a 3x3 stride-2 valid conv.
        let out = try XCTUnwrap((h - SymDim(3)).floorDiv(SymDim(2))) + SymDim(1)
        XCTAssertEqual(out.description, "(H-3)/2+1")
        XCTAssertEqual(out.substituting(["H": SymDim(224)]).intValue, 111)
        XCTAssertEqual(SymDim(-7).floorDiv(SymDim(2))?.intValue, -4, "floor, not truncation")
        XCTAssertEqual(SymDim(7).ceilDiv(SymDim(2))?.intValue, 4)
        XCTAssertNil(h.floorDiv(SymDim(0)))
        // Chains of strided convs collapse: floor((floor((H-1)/2)+1 - 1)/2) = floor((H-1)/4).
        let once = try XCTUnwrap((h - SymDim(1)).floorDiv(SymDim(2)))
        XCTAssertEqual(once.floorDiv(SymDim(2)), (h - SymDim(1)).floorDiv(SymDim(4)))
    }

    func testMinMaxFoldWhenOrderIsProvable() {
        XCTAssertEqual(SymDim.maximum(seq, SymDim(0)), seq, "sizes are non-negative")
        XCTAssertEqual(SymDim.minimum(seq + SymDim(1), seq), seq)
        let m = SymDim.minimum(SymDim(128), seq)
        XCTAssertEqual(m.description, "min(128,seq)")
        XCTAssertEqual(SymDim.maximum(seq, m), seq)
        XCTAssertEqual(m.substituting(["seq": SymDim(300)]).intValue, 128)
        XCTAssertTrue(seq.provablyDiffers(from: SymDim(-1)))
        XCTAssertFalse(seq.provablyDiffers(from: SymDim(3)))
    }

    func testTextRoundTripAndDimBoundary() throws {
        for text in ["(H-3)/2+1", "2*seq", "batch*seq", "max(a,b)", "-seq+4", "3*(H/2)"] {
            let d = try XCTUnwrap(SymDim(parsing: text), text)
            XCTAssertEqual(SymDim(parsing: d.description), d, text)
        }
        XCTAssertNil(SymDim(parsing: "seq+"))
        XCTAssertNil(SymDim(parsing: "(((("))
        XCTAssertEqual(SymDim(Dim.known(7))?.intValue, 7)
        XCTAssertNil(SymDim(Dim.unknown))
        XCTAssertEqual(SymDim(Dim.symbolic("batch_size"))?.symbolName, "batch_size")
        XCTAssertEqual(SymDim(Dim.symbolic("2*seq")), seq * SymDim(2), "an exported expression reads back")
        XCTAssertEqual((seq * SymDim(2)).dim, .symbolic("2*seq"))
        XCTAssertEqual(SymDim(Dim.symbolic("12"))?.symbolName, "12", "a name, even if it looks like a number")
    }

    func testSubstitutionGivesNumbers() {
        let e = batch * seq + SymDim(2) * seq
        XCTAssertEqual(e.substituting(["batch": SymDim(8), "seq": SymDim(512)]).intValue, 8 * 512 + 1024)
        XCTAssertEqual(e.substituting(["seq": SymDim(1)]), batch + SymDim(2))
        XCTAssertEqual(e.symbols, ["batch", "seq"])
    }

    func testOverflowWrapsInsteadOfTrapping() {
        let big = SymDim(Int64.max)
        _ = big + big
        _ = big * big
        _ = SymDim(Int64.min).floorDiv(SymDim(-1))
        XCTAssertEqual(SymDim(Int64.min).floorDiv(SymDim(-1))?.intValue, Int64.min)
    }
}
