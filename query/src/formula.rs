//! Formulas over series: `A/B`, `(A - B) * 100 / A`. Letters name series in order (A is the
//! first); numbers, `+ - * /`, unary minus and parentheses. Evaluated per bucket in Rust; a
//! missing operand or a division by zero gives no value.

use crate::error::QueryError;

/// A parsed formula.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    Series(usize),
    Number(f64),
    Negate(Box<Formula>),
    Binary(Box<Formula>, char, Box<Formula>),
}

impl Formula {
    /// Parses `text`; letters beyond `series` are refused (naming `field`).
    pub fn parse(field: &str, text: &str, series: usize) -> Result<Formula, QueryError> {
        if text.len() > 500 {
            return Err(QueryError::bad(field, "a formula has at most 500 characters"));
        }
        let tokens: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut parser = Parser { tokens: &tokens, at: 0, field, series, depth: 0 };
        let formula = parser.sum()?;
        if parser.at != tokens.len() {
            return Err(parser.error(format!("unexpected {:?}", tokens[parser.at])));
        }
        Ok(formula)
    }

    /// The value with `operand(i)` for series `i`.
    pub fn eval(&self, operand: &dyn Fn(usize) -> Option<f64>) -> Option<f64> {
        let value = match self {
            Formula::Series(i) => operand(*i)?,
            Formula::Number(n) => *n,
            Formula::Negate(inner) => -inner.eval(operand)?,
            Formula::Binary(left, op, right) => {
                let (l, r) = (left.eval(operand)?, right.eval(operand)?);
                match op {
                    '+' => l + r,
                    '-' => l - r,
                    '*' => l * r,
                    _ if r == 0.0 => return None,
                    _ => l / r,
                }
            }
        };
        value.is_finite().then_some(value)
    }
}

struct Parser<'a> {
    tokens: &'a [char],
    at: usize,
    field: &'a str,
    series: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, message: String) -> QueryError {
        QueryError::bad(self.field, format!("invalid formula: {message}"))
    }

    fn peek(&self) -> Option<char> {
        self.tokens.get(self.at).copied()
    }

    fn binary(
        &mut self,
        ops: &[char],
        next: fn(&mut Self) -> Result<Formula, QueryError>,
    ) -> Result<Formula, QueryError> {
        let mut left = next(self)?;
        while let Some(op) = self.peek().filter(|c| ops.contains(c)) {
            self.at += 1;
            let op = if op == '−' { '-' } else { op };
            left = Formula::Binary(Box::new(left), op, Box::new(next(self)?));
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Formula, QueryError> {
        self.binary(&['+', '-', '−'], Self::product)
    }

    fn product(&mut self) -> Result<Formula, QueryError> {
        self.binary(&['*', '/'], Self::unary)
    }

    fn unary(&mut self) -> Result<Formula, QueryError> {
        match self.peek() {
            Some('-' | '−') => {
                self.at += 1;
                Ok(Formula::Negate(Box::new(self.unary()?)))
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Result<Formula, QueryError> {
        match self.peek() {
            Some('(') => {
                self.depth += 1;
                if self.depth > 32 {
                    return Err(self.error("nested too deeply".into()));
                }
                self.at += 1;
                let inner = self.sum()?;
                if self.peek() != Some(')') {
                    return Err(self.error("missing `)`".into()));
                }
                self.at += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Some(c) if c.is_ascii_uppercase() => {
                self.at += 1;
                let index = (c as u8 - b'A') as usize;
                if index >= self.series {
                    return Err(self.error(format!("{c} names no series (there are {})", self.series)));
                }
                Ok(Formula::Series(index))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.at;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.at += 1;
                }
                let text: String = self.tokens[start..self.at].iter().collect();
                text.parse().map(Formula::Number).map_err(|_| self.error(format!("bad number {text}")))
            }
            Some(c) => Err(self.error(format!("unexpected {c:?}"))),
            None => Err(self.error("ends too early".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, values: &[Option<f64>]) -> Option<f64> {
        Formula::parse("formula", text, values.len()).unwrap().eval(&|i| values[i])
    }

    #[test]
    fn arithmetic_with_precedence() {
        assert_eq!(eval("A/B", &[Some(3.0), Some(4.0)]), Some(0.75));
        assert_eq!(eval("A-B", &[Some(3.0), Some(4.0)]), Some(-1.0));
        assert_eq!(eval("A−B", &[Some(3.0), Some(4.0)]), Some(-1.0));
        assert_eq!(eval("(A + B) * 2 - -1", &[Some(1.0), Some(2.0)]), Some(7.0));
        assert_eq!(eval("A - B - C", &[Some(10.0), Some(2.0), Some(3.0)]), Some(5.0));
        assert_eq!(eval("A / B * 100", &[Some(1.0), Some(4.0)]), Some(25.0));
    }

    #[test]
    fn missing_values_and_division_by_zero_give_none() {
        assert_eq!(eval("A/B", &[Some(3.0), Some(0.0)]), None);
        assert_eq!(eval("A+B", &[None, Some(1.0)]), None);
    }

    #[test]
    fn bad_formulas_name_the_field() {
        for bad in ["A/", "C", "A B", "(A", "A; DROP TABLE events", "a", ""] {
            let err = Formula::parse("formula", bad, 2).unwrap_err();
            assert!(
                matches!(err, QueryError::BadRequest { ref field, .. } if field == "formula"),
                "{bad}: {err:?}"
            );
        }
    }
}
