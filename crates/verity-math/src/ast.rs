//! The expression tree produced by [`crate::parse`].
//!
//! What it does: represents a parsed answer: numbers as exact big rationals, symbols, constants,
//! arithmetic, functions, relations, and the containers answers come in (tuples, intervals,
//! sets, matrices, bare lists, text).
//! Why: equivalence is decided on structure plus evaluation, never on strings alone.
//! Known failure modes: bracket pairs `(a, b)` stay ambiguous (tuple or open interval) in the
//! tree; the comparison decides by looking at both sides.

use num_rational::BigRational;

/// Constants recognised by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Const {
    /// π
    Pi,
    /// Euler's number `e`
    E,
    /// The imaginary unit `i`
    I,
    /// ∞
    Inf,
}

/// Functions recognised by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Func {
    Sin,
    Cos,
    Tan,
    Sec,
    Csc,
    Cot,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Ln,
    Exp,
    Abs,
    Floor,
    Ceil,
}

/// Relation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum RelOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
}

/// A node of the expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A number; `approx` is true when it was written as a decimal with non-zero fractional digits.
    Num {
        /// Exact value.
        value: BigRational,
        /// Written as a (possibly rounded) decimal.
        approx: bool,
    },
    /// A free symbol (variable, option letter, `x_1`, `f'`).
    Sym(String),
    /// A constant.
    Const(Const),
    /// Sum.
    Add(Vec<Node>),
    /// Product.
    Mul(Vec<Node>),
    /// Negation.
    Neg(Box<Node>),
    /// Quotient.
    Div(Box<Node>, Box<Node>),
    /// Power.
    Pow(Box<Node>, Box<Node>),
    /// Function application.
    Func(Func, Box<Node>),
    /// Logarithm with optional base (natural if absent).
    Log(Box<Node>, Option<Box<Node>>),
    /// Binomial coefficient.
    Binom(Box<Node>, Box<Node>),
    /// Factorial.
    Factorial(Box<Node>),
    /// `x%`
    Percent(Box<Node>),
    /// `x°`
    Degree(Box<Node>),
    /// `a ± b` (unary `±b` is `0 ± b`).
    PlusMinus(Box<Node>, Box<Node>),
    /// Free text (`\text{odd}`, words).
    Text(String),
    /// Bracketed list of two or more items, or one item in mismatched brackets; a ratio
    /// `a:b` (or `a:b:c`) is a group with `open` and `close` both `:`.
    Group {
        /// Opening bracket: `(` or `[` (`:` for a ratio).
        open: u8,
        /// Closing bracket: `)` or `]` (`:` for a ratio).
        close: u8,
        /// Items.
        items: Vec<Node>,
    },
    /// Bare comma-separated list.
    List(Vec<Node>),
    /// `\{ ... \}`
    Set(Vec<Node>),
    /// `A \cup B`
    Union(Vec<Node>),
    /// Matrix rows.
    Matrix(Vec<Vec<Node>>),
    /// Relation chain: `parts[0] ops[0] parts[1] ...`.
    Rel(Vec<Node>, Vec<RelOp>),
    /// ∅
    EmptySet,
}

impl Node {
    /// A small integer node.
    pub fn int(v: i64) -> Node {
        Node::Num {
            value: BigRational::from_integer(v.into()),
            approx: false,
        }
    }

    /// True when the node (recursively) contains a percent sign.
    pub fn has_percent(&self) -> bool {
        self.any(&|n| matches!(n, Node::Percent(_)))
    }

    /// True when the node contains an approximate decimal.
    pub fn has_approx(&self) -> bool {
        self.any(&|n| matches!(n, Node::Num { approx: true, .. }))
    }

    /// True when the node contains text.
    pub fn has_text(&self) -> bool {
        self.any(&|n| matches!(n, Node::Text(_)))
    }

    /// Whether any node satisfies `f` (pre-order).
    pub fn any(&self, f: &dyn Fn(&Node) -> bool) -> bool {
        if f(self) {
            return true;
        }
        self.children().iter().any(|c| c.any(f))
    }

    /// Direct children.
    pub fn children(&self) -> Vec<&Node> {
        match self {
            Node::Num { .. } | Node::Sym(_) | Node::Const(_) | Node::Text(_) | Node::EmptySet => {
                vec![]
            }
            Node::Add(v) | Node::Mul(v) | Node::List(v) | Node::Set(v) | Node::Union(v) => {
                v.iter().collect()
            }
            Node::Group { items, .. } => items.iter().collect(),
            Node::Rel(v, _) => v.iter().collect(),
            Node::Matrix(rows) => rows.iter().flatten().collect(),
            Node::Neg(a)
            | Node::Func(_, a)
            | Node::Factorial(a)
            | Node::Percent(a)
            | Node::Degree(a) => vec![a],
            Node::Div(a, b) | Node::Pow(a, b) | Node::Binom(a, b) | Node::PlusMinus(a, b) => {
                vec![a, b]
            }
            Node::Log(a, b) => {
                let mut v: Vec<&Node> = vec![a];
                if let Some(b) = b {
                    v.push(b);
                }
                v
            }
        }
    }

    /// True for a name that an answer gives a value to, rather than a value or an expression:
    /// a symbol (`x`, `x_1`, `m_{\max}`), text (`\text{Area}`), a product of symbols (`AB`,
    /// `xy`), a function of one argument (`f(x)`, `g(2)`, `\sin\theta`), or a ratio of labels
    /// (`A_1:A_2`). `x = 3` states the value 3 of the label `x`; `2x + y = 5` is an equation.
    pub fn is_label(&self) -> bool {
        match self {
            Node::Sym(_) | Node::Text(_) => true,
            Node::Mul(v) => match v.as_slice() {
                [Node::Sym(head), arg] => {
                    // `f(x+1)` is an application, `x(x+1)` a product
                    let mut inner = Vec::new();
                    arg.symbols(&mut inner);
                    arg.is_scalar_argument() && !inner.contains(head)
                }
                _ => v.iter().all(|f| matches!(f, Node::Sym(_))),
            },
            Node::Func(_, a) => a.is_label(),
            Node::Group {
                open: b':', items, ..
            } => items.iter().all(Node::is_label),
            _ => false,
        }
    }

    /// A plain expression that can be a function argument (no relation or container).
    fn is_scalar_argument(&self) -> bool {
        !matches!(
            self,
            Node::Rel(..)
                | Node::List(_)
                | Node::Set(_)
                | Node::Union(_)
                | Node::Matrix(_)
                | Node::Group { .. }
                | Node::EmptySet
        )
    }

    /// True for a ratio `a:b`.
    pub fn is_ratio(&self) -> bool {
        matches!(self, Node::Group { open: b':', .. })
    }

    /// Free symbols, sorted and deduplicated.
    pub fn symbols(&self, out: &mut Vec<String>) {
        if let Node::Sym(s) = self {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        for c in self.children() {
            c.symbols(out);
        }
    }
}
