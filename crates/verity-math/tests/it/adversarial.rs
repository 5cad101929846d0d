//! Pathological inputs: a verdict or `unknown` with a reason, never a panic or a hang.
//! Plus a property test: arbitrary strings never panic.

use proptest::prelude::*;
use verity_math::{check, equivalent, EquivOptions, MathOptions, Verdict};

#[test]
fn tower_exponent_is_unknown_not_a_hang() {
    let o = equivalent("9^{9^{9^9}}", "9^{9^{9^{9}}}+1", &EquivOptions::default());
    assert_eq!(o.verdict, Verdict::Unknown, "{o:?}");
    assert!(o.reason.unwrap().contains("overflow"));
    // the same tower on both sides is recognised without evaluating it
    let o = equivalent("9^{9^{9^9}}", "9^{9^{9^9}}", &EquivOptions::default());
    assert_eq!(o.verdict, Verdict::Equivalent);
}

#[test]
fn huge_integer_powers_fall_back() {
    let o = equivalent("2^{100000}", "2^{100000}+0", &EquivOptions::default());
    assert_ne!(o.verdict, Verdict::NotEquivalent);
    let o = equivalent("2^{10}", "1024", &EquivOptions::default());
    assert_eq!(o.verdict, Verdict::Equivalent);
}

#[test]
fn division_by_zero_is_unknown() {
    let o = equivalent("\\frac{1}{0}", "\\frac{2}{0}", &EquivOptions::default());
    assert_eq!(o.verdict, Verdict::Unknown, "{o:?}");
    assert!(o.reason.unwrap().contains("undefined"));
}

#[test]
fn deep_nesting_is_bounded() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let o = equivalent("1", &deep, &EquivOptions::default());
    assert_ne!(o.verdict, Verdict::Equivalent);
    let braces = format!("\\boxed{{{}1{}}}", "{".repeat(50_000), "}".repeat(50_000));
    let r = check("1", &braces, &MathOptions::default());
    assert_ne!(r.verdict, Verdict::Equivalent);
    let fr = format!("{}1{}", "\\frac{1}{".repeat(5000), "}".repeat(5000));
    let o = equivalent("1", &fr, &EquivOptions::default());
    assert_eq!(o.verdict, Verdict::Unknown, "{o:?}");
}

#[test]
fn megabyte_strings() {
    let big = "1+".repeat(500_000) + "1";
    let o = equivalent("3", &big, &EquivOptions::default());
    assert_eq!(o.verdict, Verdict::Unknown);
    let trace = "so we get 12 and then ".repeat(50_000) + "\\boxed{7}";
    let r = check("7", &trace, &MathOptions::default());
    assert_eq!(r.verdict, Verdict::Equivalent);
    let digits = "9".repeat(1_000_000);
    let r = check("1", &digits, &MathOptions::default());
    assert_ne!(r.verdict, Verdict::Equivalent);
}

#[test]
fn unbalanced_input() {
    for p in [
        "\\boxed{\\frac{1}{2}",
        "\\frac{1}{",
        "((1+2)",
        "\\left( 1, 2",
        "\\sqrt[3{8}",
        "\\begin{pmatrix} 1 & 2",
        "}}}{{{",
        "\\",
        "$",
        "^^^",
    ] {
        let r = check("1/2", p, &MathOptions::default());
        // an unclosed box is not a box (the fallbacks may still find the number in it)
        assert_ne!(r.pred.rule, verity_math::Rule::Boxed, "{p:?}");
        if !p.contains("frac") {
            assert_ne!(r.verdict, Verdict::Equivalent, "{p:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(g in ".{0,60}", p in ".{0,200}") {
        let _ = check(&g, &p, &MathOptions::default());
    }

    #[test]
    fn latexish_strings_never_panic(
        g in r"[0-9a-z+\-*/^_{}()\[\],.=<>%$ \\]{0,40}",
        p in r"(\\frac|\\sqrt|\\boxed|\\left|\\right|\\text|\\pi|\\infty|\\pm|\\cup|\\begin\{pmatrix\}|\\end\{pmatrix\}|[0-9xy{}()\[\]^_,.=&+\-]){0,40}",
    ) {
        let _ = check(&g, &p, &MathOptions::default());
        let _ = equivalent(&g, &p, &EquivOptions::default());
    }
}
