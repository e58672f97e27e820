//! The FHIRPath subset that search parameter expressions need, and nothing more: a resource type
//! as the root, `.child`, unions `|`, parentheses, `x as T` / `x.as(T)` / `x.ofType(T)` on choice
//! elements, `x.where(resolve() is T)` on references and `x.where(field = 'text')`.
//!
//! Anything else is a parse error, which makes the generator (never the server) fail, so the
//! committed table holds only expressions this module evaluates.
//!
//! Choice elements (`value[x]`) are known from the package's StructureDefinitions: the generator
//! lists them per parameter (`choices` in `r4.json`) and [`Expr::mark_choices`] marks those steps.
//! A marked step `value` matches the keys `value` + a FHIR type name (`valueQuantity`), and the
//! type is remembered for `as`; an unmarked step matches its own key only (so `conclusion` never
//! picks up `conclusionCode`).

use serde_json::Value;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// The resource, if its `resourceType` is this name.
    Root(String),
    /// `base.name`; for a choice element, the keys `name{Type}`.
    Child { base: Box<Expr>, name: String, choice: bool },
    /// `a | b | …`
    Union(Vec<Expr>),
    /// `base as T`, `base.as(T)`, `base.ofType(T)`: the nodes known to be of type T.
    As(Box<Expr>, String),
    /// `base.where(resolve() is T)`: the references that point to a T.
    ResolvesTo(Box<Expr>, String),
    /// `base.where(field = 'text')`.
    FieldEquals(Box<Expr>, String, String),
}

impl Expr {
    /// The root resource types the expression starts from.
    pub(crate) fn roots(&self) -> Vec<&str> {
        match self {
            Self::Root(name) => vec![name],
            Self::Child { base, .. }
            | Self::As(base, _)
            | Self::ResolvesTo(base, _)
            | Self::FieldEquals(base, ..) => base.roots(),
            Self::Union(items) => items.iter().flat_map(Self::roots).collect(),
        }
    }

    /// Marks the steps with these names as choice elements.
    pub(crate) fn mark_choices(&mut self, names: &[String]) {
        match self {
            Self::Root(_) => {}
            Self::Child { base, name, choice } => {
                *choice = names.contains(name);
                base.mark_choices(names);
            }
            Self::As(base, _) | Self::ResolvesTo(base, _) | Self::FieldEquals(base, ..) => {
                base.mark_choices(names)
            }
            Self::Union(items) => items.iter_mut().for_each(|item| item.mark_choices(names)),
        }
    }

    /// The type every branch filters its references to with `where(resolve() is T)`, if one.
    pub(crate) fn resolved_type(&self) -> Option<&str> {
        match self {
            Self::ResolvesTo(_, name) => Some(name),
            Self::Union(items) => {
                let first = items.first()?.resolved_type()?;
                items.iter().all(|item| item.resolved_type() == Some(first)).then_some(first)
            }
            _ => None,
        }
    }
}

/// A value reached by an expression, with its type when a choice key told it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<'a> {
    pub(crate) value: &'a Value,
    pub(crate) type_hint: Option<&'static str>,
}

/// The FHIR R4 data types that can follow a choice element's name, as FHIRPath spells them.
const CHOICE_TYPES: [&str; 51] = [
    "base64Binary",
    "boolean",
    "canonical",
    "code",
    "date",
    "dateTime",
    "decimal",
    "id",
    "instant",
    "integer",
    "markdown",
    "oid",
    "positiveInt",
    "string",
    "time",
    "unsignedInt",
    "uri",
    "url",
    "uuid",
    "Address",
    "Age",
    "Annotation",
    "Attachment",
    "CodeableConcept",
    "Coding",
    "ContactPoint",
    "Count",
    "Distance",
    "Duration",
    "HumanName",
    "Identifier",
    "Money",
    "Period",
    "Quantity",
    "Range",
    "Ratio",
    "Reference",
    "SampledData",
    "Signature",
    "Timing",
    "ContactDetail",
    "Contributor",
    "DataRequirement",
    "Expression",
    "ParameterDefinition",
    "RelatedArtifact",
    "TriggerDefinition",
    "UsageContext",
    "Dosage",
    "Meta",
    "SimpleQuantity",
];

/// The types that `as Quantity` also accepts (R4 specialisations of Quantity).
const QUANTITY_KINDS: [&str; 5] = ["Age", "Count", "Distance", "Duration", "SimpleQuantity"];

/// The type named by the end of a choice key (`DateTime` → `dateTime`).
fn choice_type(suffix: &str) -> Option<&'static str> {
    let mut chars = suffix.chars();
    let first = chars.next().filter(char::is_ascii_uppercase)?;
    CHOICE_TYPES.into_iter().find(|name| {
        let mut name_chars = name.chars();
        name_chars.next().is_some_and(|c| c.eq_ignore_ascii_case(&first))
            && name_chars.as_str() == chars.as_str()
    })
}

/// Whether a node of type `actual` passes `as wanted`.
pub(crate) fn type_matches(actual: &str, wanted: &str) -> bool {
    actual == wanted || (wanted == "Quantity" && QUANTITY_KINDS.contains(&actual))
}

/// Evaluates an expression on a resource. Never panics, whatever the JSON.
pub(crate) fn evaluate<'a>(expr: &Expr, resource: &'a Value) -> Vec<Node<'a>> {
    match expr {
        Expr::Root(name) => {
            if resource.get("resourceType").and_then(Value::as_str) == Some(name) {
                vec![Node { value: resource, type_hint: None }]
            } else {
                Vec::new()
            }
        }
        Expr::Child { base, name, choice } => {
            let mut out = Vec::new();
            for node in evaluate(base, resource) {
                let Some(object) = node.value.as_object() else { continue };
                if !choice {
                    if let Some(value) = object.get(name.as_str()) {
                        push_flat(&mut out, value, None);
                    }
                    continue;
                }
                for (key, value) in object {
                    if let Some(hint) = key.strip_prefix(name.as_str()).and_then(choice_type) {
                        push_flat(&mut out, value, Some(hint));
                    }
                }
            }
            out
        }
        Expr::Union(items) => items.iter().flat_map(|item| evaluate(item, resource)).collect(),
        Expr::As(base, wanted) => evaluate(base, resource)
            .into_iter()
            .filter(|node| node.type_hint.is_some_and(|actual| type_matches(actual, wanted)))
            .collect(),
        Expr::ResolvesTo(base, wanted) => evaluate(base, resource)
            .into_iter()
            .filter(|node| super::extract::reference_type(node.value).as_deref() == Some(wanted.as_str()))
            .collect(),
        Expr::FieldEquals(base, field, text) => evaluate(base, resource)
            .into_iter()
            .filter(|node| node.value.get(field.as_str()).and_then(Value::as_str) == Some(text.as_str()))
            .collect(),
    }
}

/// Pushes a value, or each item of an array (FHIRPath collections are flat).
fn push_flat<'a>(out: &mut Vec<Node<'a>>, value: &'a Value, type_hint: Option<&'static str>) {
    match value {
        Value::Array(items) => {
            out.extend(items.iter().filter(|item| !item.is_null()).map(|value| Node { value, type_hint }))
        }
        Value::Null => {}
        value => out.push(Node { value, type_hint }),
    }
}

/// Why an expression is outside the subset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {at}")]
pub(crate) struct ParseError {
    message: String,
    at: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Text(String),
    Dot,
    Pipe,
    Open,
    Close,
    Equals,
}

/// Parses an expression of the subset.
pub(crate) fn parse(source: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser { tokens, position: 0, end: source.len() };
    let expr = parser.union()?;
    match parser.tokens.get(parser.position) {
        None => Ok(expr),
        Some((token, at)) => Err(ParseError { message: format!("unexpected {token:?}"), at: *at }),
    }
}

fn tokenize(source: &str) -> Result<Vec<(Token, usize)>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '.' => Token::Dot,
            '|' => Token::Pipe,
            '(' => Token::Open,
            ')' => Token::Close,
            '=' => Token::Equals,
            '\'' => {
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, escaped)) => text.push(escaped),
                            None => return Err(ParseError { message: "unterminated string".into(), at }),
                        },
                        Some((_, c)) => text.push(c),
                        None => return Err(ParseError { message: "unterminated string".into(), at }),
                    }
                }
                Token::Text(text)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = String::from(c);
                while let Some(&(_, c)) = chars.peek() {
                    if !(c.is_ascii_alphanumeric() || c == '_') {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                Token::Ident(name)
            }
            c => return Err(ParseError { message: format!("unsupported character {c:?}"), at }),
        };
        tokens.push((token, at));
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    position: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|(token, _)| token)
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        let at = self.tokens.get(self.position).map_or(self.end, |(_, at)| *at);
        ParseError { message: message.into(), at }
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).map(|(token, _)| token.clone());
        self.position += 1;
        token
    }

    fn expect(&mut self, wanted: &Token) -> Result<(), ParseError> {
        if self.peek() == Some(wanted) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {wanted:?}")))
        }
    }

    fn ident(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(Token::Ident(name)) => {
                let name = name.clone();
                self.position += 1;
                Ok(name)
            }
            _ => Err(self.error("expected a name")),
        }
    }

    fn keyword(&mut self, word: &str) -> Result<(), ParseError> {
        match self.peek() {
            Some(Token::Ident(name)) if name == word => {
                self.position += 1;
                Ok(())
            }
            _ => Err(self.error(format!("expected `{word}`"))),
        }
    }

    /// union := typed ('|' typed)*
    fn union(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.typed()?];
        while self.peek() == Some(&Token::Pipe) {
            self.position += 1;
            items.push(self.typed()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Union(items) })
    }

    /// typed := path ('as' Type)*
    fn typed(&mut self) -> Result<Expr, ParseError> {
        let mut expr = self.path()?;
        loop {
            match self.peek() {
                Some(Token::Ident(word)) if word == "as" => {
                    self.position += 1;
                    expr = Expr::As(Box::new(expr), self.ident()?);
                }
                Some(Token::Ident(word)) => {
                    return Err(self.error(format!("operator `{word}` is not supported")));
                }
                _ => return Ok(expr),
            }
        }
    }

    /// path := primary ('.' name | '.' function(…))*
    fn path(&mut self) -> Result<Expr, ParseError> {
        let mut expr = self.primary()?;
        while self.peek() == Some(&Token::Dot) {
            self.position += 1;
            let name = self.ident()?;
            if self.peek() == Some(&Token::Open) {
                self.position += 1;
                expr = self.function(expr, &name)?;
            } else {
                expr = Expr::Child { base: Box::new(expr), name, choice: false };
            }
        }
        Ok(expr)
    }

    /// primary := ResourceType | '(' union ')'
    fn primary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(Token::Open) => {
                self.position += 1;
                let expr = self.union()?;
                self.expect(&Token::Close)?;
                Ok(expr)
            }
            Some(Token::Ident(name)) if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
                Ok(Expr::Root(self.ident()?))
            }
            _ => Err(self.error("expected a resource type or `(`")),
        }
    }

    /// The arguments and `)` of a function whose `(` was read.
    fn function(&mut self, base: Expr, name: &str) -> Result<Expr, ParseError> {
        let base = Box::new(base);
        let expr = match name {
            "as" | "ofType" => Expr::As(base, self.ident()?),
            "where" if self.peek() == Some(&Token::Ident("resolve".into())) => {
                self.position += 1;
                self.expect(&Token::Open)?;
                self.expect(&Token::Close)?;
                self.keyword("is")?;
                Expr::ResolvesTo(base, self.ident()?)
            }
            "where" => {
                let field = self.ident()?;
                self.expect(&Token::Equals)?;
                match self.next() {
                    Some(Token::Text(text)) => Expr::FieldEquals(base, field, text),
                    _ => {
                        self.position -= 1;
                        return Err(self.error("`where` compares a field with a 'string'"));
                    }
                }
            }
            other => {
                self.position -= 2;
                return Err(self.error(format!("function `{other}()` is not supported")));
            }
        };
        self.expect(&Token::Close)?;
        Ok(expr)
    }
}
