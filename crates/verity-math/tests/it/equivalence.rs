//! Behaviour of extraction + equivalence on hand-picked forms (each one a real answer shape
//! from MATH/GSM8K/AIME-style data).

use verity_math::{check, equivalent, EquivOptions, MathOptions, PercentPolicy, Rule, Verdict};

fn eq(g: &str, p: &str) -> Verdict {
    equivalent(g, p, &EquivOptions::default()).verdict
}

#[track_caller]
fn yes(g: &str, p: &str) {
    let o = equivalent(g, p, &EquivOptions::default());
    assert_eq!(o.verdict, Verdict::Equivalent, "{g:?} vs {p:?}: {o:?}");
}

#[track_caller]
fn no(g: &str, p: &str) {
    let o = equivalent(g, p, &EquivOptions::default());
    assert_eq!(o.verdict, Verdict::NotEquivalent, "{g:?} vs {p:?}: {o:?}");
}

#[test]
fn numbers() {
    yes("1234", "1,234");
    yes("1234", "1{,}234");
    yes("0.75", "\\frac34");
    yes("\\frac{3}{4}", "\\dfrac{6}{8}");
    yes("-\\frac{3}{4}", "\\frac{-3}{4}");
    yes("2.5", "2\\frac{1}{2}");
    yes("1500", "1.5e3");
    yes("1500", "1.5 \\times 10^3");
    yes("18", "\\$18.00");
    yes("033", "33");
    no("7", "14.00");
    no("\\frac{247}{6}", "\\frac{247}{60}");
    no("10000", "10001");
    no("10000", "9999.857142857143");
    yes("\\frac{1}{3}", "0.33333");
    no("\\frac{1}{3}", "0.33");
}

#[test]
fn radicals_and_constants() {
    yes("2\\sqrt{3}", "\\sqrt{12}");
    yes("2\\sqrt{3}", "2 \\cdot \\sqrt{3}");
    yes("\\sqrt[3]{8}", "2");
    yes("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt2}");
    yes("2\\pi", "\\pi \\cdot 2");
    yes("\\frac{\\pi}{2}", "90^\\circ");
    no("4\\sqrt{7}", "6\\sqrt{7}");
    yes("\\sin 30^\\circ", "\\frac12");
    yes("\\log_2 8", "3");
    yes("e^{i\\pi}", "-1");
    yes("\\binom{5}{2}", "10");
    yes("5!", "120");
}

#[test]
fn expressions_with_variables() {
    yes("(x+1)^2", "x^2+2x+1");
    yes("\\frac{x^2-1}{x-1}", "x+1");
    yes("2x+ 1+x^2", "y = x^2+2x+1");
    no("x^2+2x+1", "x^3+2x+1");
    yes("\\sin^2 x + \\cos^2 x", "1");
    no("a+b", "a-b");
}

#[test]
fn equations_and_inequalities() {
    yes("x + y = 1", "1 = y + x");
    yes("2x + 2y = 2", "x + y = 1");
    no("x + y - z + 2 = 0", "5x - 7y + 11z + 4 = 0");
    yes("x > 2", "2 < x");
    yes("x \\ge 2", "[2, \\infty)");
    yes("-1 < x \\le 3", "(-1, 3]");
    no("x > 2", "x \\ge 2");
    yes("x = 5", "5");
}

#[test]
fn containers() {
    yes("(1, 2)", "(1,2)");
    no("(1, 2)", "(2, 1)");
    no("[1, 2]", "(1, 2)");
    yes("\\{1, 2, 3\\}", "\\{3, 2, 1\\}");
    yes(
        "(-\\infty, 1) \\cup (2, \\infty)",
        "(2,\\infty)\\cup(-\\infty,1)",
    );
    yes("\\pm 2", "2, -2");
    no("4, 10, -2", "10, 4, -2");
    yes(
        "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
        "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}",
    );
    no(
        "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
        "\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}",
    );
    yes("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1, 2)");
}

#[test]
fn policies() {
    let unordered = EquivOptions {
        unordered_lists: true,
        ..EquivOptions::default()
    };
    assert_eq!(
        equivalent("4, 10, -2", "10, 4, -2", &unordered).verdict,
        Verdict::Equivalent
    );
    let frac = EquivOptions {
        percent: PercentPolicy::Fraction,
        ..EquivOptions::default()
    };
    assert_eq!(
        equivalent("0.1", "10\\%", &frac).verdict,
        Verdict::Equivalent
    );
    assert_eq!(
        equivalent("10", "10\\%", &frac).verdict,
        Verdict::NotEquivalent
    );
    let num = EquivOptions {
        percent: PercentPolicy::Number,
        ..EquivOptions::default()
    };
    assert_eq!(
        equivalent("0.1", "10\\%", &num).verdict,
        Verdict::NotEquivalent
    );
    assert_eq!(eq("10", "10\\%"), Verdict::Equivalent);
    let tight = EquivOptions {
        rel_tol: 1e-9,
        ..EquivOptions::default()
    };
    assert_eq!(
        equivalent("1", "1.0001", &tight).verdict,
        Verdict::NotEquivalent
    );
}

#[test]
fn text_and_choices() {
    yes("\\text{odd}", "odd");
    no("\\text{oddd}", "odd");
    yes("\\textbf{(B)}", "B");
    yes("Yes", "\\text{yes}");
    yes("10", "10\\text{ units}");
    yes("160", "160\\text{ cm}^{2}");
    yes("448", "448 \\mathrm{m}");
}

#[test]
fn extraction_rules() {
    let o = MathOptions::default();
    let r = check("3", "<think>maybe \\boxed{5}</think> so \\boxed{3}", &o);
    assert_eq!((r.verdict, r.pred.rule), (Verdict::Equivalent, Rule::Boxed));
    let r = check("3", "<think>maybe \\boxed{3}</think> the answer is 5", &o);
    assert_eq!(r.verdict, Verdict::NotEquivalent);
    let r = check("72", "Natalia sold 48/2 = 24 clips.\n#### 72", &o);
    assert_eq!(
        (r.verdict, r.pred.rule),
        (Verdict::Equivalent, Rule::HashMarks)
    );
    let r = check("1, 2", "The roots are \\boxed{1} and \\boxed{2}.", &o);
    assert_eq!(
        (r.verdict, r.pred.rule),
        (Verdict::Equivalent, Rule::BoxedMulti)
    );
    let r = check(
        "\\boxed{\\frac{1}{2}}",
        "The final answer is $\\frac{1}{2}$. I hope",
        &o,
    );
    assert_eq!(
        (r.verdict, r.pred.rule),
        (Verdict::Equivalent, Rule::AnswerPhrase)
    );
    let r = check("12", "We add them: 5 + 7 = 12 apples in total", &o);
    assert_eq!(
        (r.verdict, r.pred.rule),
        (Verdict::Equivalent, Rule::LastNumber)
    );
    let r = check("\\boxed{\\frac{a}{\\{b\\}}}", "x", &o);
    assert_eq!(r.gold.answer.as_deref(), Some("\\frac{a}{\\{b\\}}"));
    let r = check(
        "5",
        "<|begin_of_thought|>long \\boxed{4}<|end_of_thought|><|begin_of_solution|>It is \\boxed{5}<|end_of_solution|>",
        &o,
    );
    assert_eq!(r.verdict, Verdict::Equivalent);
    // hedged alternatives must all be right
    let r = check("2", "\\boxed{2} or \\boxed{3}", &o);
    assert_eq!(r.verdict, Verdict::NotEquivalent);
    let r = check(
        "\\frac{639}{40}",
        "$\\boxed{15\\frac{39}{40}}$, or $\\boxed{\\frac{639}{40}}$",
        &o,
    );
    assert_eq!(r.verdict, Verdict::Equivalent);
    // no answer at all
    let r = check("5", "I do not know.", &o);
    assert_eq!(
        (r.verdict, r.pred.rule),
        (Verdict::NotEquivalent, Rule::None)
    );
}
