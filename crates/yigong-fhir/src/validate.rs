//! Structural validation of FHIR R4 resources in JSON against the generated
//! [`definitions`](crate::definitions), following the JSON rules of the specification
//! (<https://hl7.org/fhir/R4/json.html>):
//!
//! - the root is an object whose `resourceType` names a concrete resource type;
//! - every property is an element of its type (a choice such as `valueQuantity` names one of the
//!   allowed types, and only one choice of an element is present); `resourceType` appears only
//!   at the root of a resource;
//! - an element whose maximum cardinality is above 1 is an array, any other is not; required
//!   elements are present; arrays, objects and strings are never empty and `null` only stands in
//!   a primitive array for a value whose extensions are in the aligned `_name` array;
//! - primitive extensions (`_birthDate`) hold only `id` and `extension`, and are aligned with
//!   their array;
//! - primitive values have their JSON kind and the lexical form of their type, with real
//!   calendar dates; decimals are checked on the text as written (`arbitrary_precision`);
//! - codes of required bindings belong to their value set when the package can expand it;
//! - resources inside resources (`contained`, `Bundle.entry.resource`,
//!   `Parameters.parameter.resource`) are validated as their own `resourceType`.
//!
//! Not checked: the invariants of the specification (FHIRPath constraints such as `ele-1` or
//! `dom-2`), profiles, reference targets, extensible or preferred bindings, and the XHTML of the
//! narrative beyond it being a `<div>`. A CodeableConcept with only `text` passes a required
//! binding. The validator never panics, whatever the JSON, and reports at most
//! [`MAX_ISSUES`] issues.

mod primitive;
#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::{Map, Value};

use crate::definitions::{Definitions, Element, JsonKind, Kind, Max, ValueSet, r4};

/// Validation stops after this many issues, and says so in one more warning.
pub const MAX_ISSUES: usize = 100;

/// Objects nested deeper than this are not looked into.
const MAX_DEPTH: usize = 100;

/// A value set with at most this many codes is listed in full in a message.
const LIST_CODES: usize = 12;

/// How bad an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The resource is not valid FHIR.
    Error,
    /// Valid, but probably not what was meant.
    Warning,
}

impl Severity {
    /// The FHIR `issue-severity` code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// What kind of problem an issue is: the FHIR `issue-type` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    /// The shape is wrong: unknown element, array expected, wrong JSON kind, empty object.
    Structure,
    /// A required element is missing.
    Required,
    /// A primitive value has the wrong form (a date that does not exist, an empty string).
    Value,
    /// A code is not in the value set of a required binding.
    CodeInvalid,
    /// The content is wrong in some other way (not the expected resource type).
    Invalid,
    /// Something this validator does not know (an unknown resource type).
    NotSupported,
    /// Validation stopped early (too many issues, too deep).
    TooCostly,
}

impl IssueCode {
    /// The FHIR `issue-type` code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Structure => "structure",
            Self::Required => "required",
            Self::Value => "value",
            Self::CodeInvalid => "code-invalid",
            Self::Invalid => "invalid",
            Self::NotSupported => "not-supported",
            Self::TooCostly => "too-costly",
        }
    }
}

/// One problem found in a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Error or warning.
    pub severity: Severity,
    /// The FHIR issue type.
    pub code: IssueCode,
    /// Where: `Type.element[index].child`, e.g. `Observation.component[1].code.coding[0].system`;
    /// a resource inside another continues with `.ofType(Type)`, e.g.
    /// `Bundle.entry[3].resource.ofType(Patient).name[0]`.
    pub expression: String,
    /// What is wrong and what was expected, in English.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}: {}", self.severity.as_str(), self.code.as_str(), self.expression, self.message)
    }
}

/// Validates a resource of any type; an empty list means valid.
pub fn validate(resource: &Value) -> Vec<Issue> {
    Walker::new(r4()).run(resource, None)
}

/// Validates a resource that must be of `expected_type` (e.g. `Patient`).
pub fn validate_as(resource: &Value, expected_type: &str) -> Vec<Issue> {
    Walker::new(r4()).run(resource, Some(expected_type))
}

/// What a value of some element is checked as.
#[derive(Clone, Copy)]
enum Target<'d> {
    /// A primitive type such as `date`.
    Primitive(&'d str),
    /// The children of `path` in `type_name`: a datatype (`path` empty) or a backbone element.
    Complex { type_name: &'d str, path: &'d str },
    /// A resource, of a given concrete type or of any type (`Resource`).
    Resource(Option<&'d str>),
    /// A type the definitions do not know; not looked into.
    Unknown,
}

struct Walker<'d> {
    defs: &'d Definitions,
    issues: Vec<Issue>,
    truncated: bool,
    depth: usize,
}

impl<'d> Walker<'d> {
    fn new(defs: &'d Definitions) -> Self {
        Self { defs, issues: Vec::new(), truncated: false, depth: 0 }
    }

    fn run(mut self, resource: &Value, expected: Option<&str>) -> Vec<Issue> {
        if let Some(expected) = expected.filter(|t| !self.defs.is_resource(t)) {
            let message = format!("'{expected}' is not a resource type of FHIR R4");
            self.push(Severity::Error, IssueCode::NotSupported, expected, message);
            return self.issues;
        }
        self.resource(resource, None, expected);
        if self.truncated {
            self.issues.push(Issue {
                severity: Severity::Warning,
                code: IssueCode::TooCostly,
                expression: self.issues.last().map(|i| i.expression.clone()).unwrap_or_default(),
                message: format!("validation stopped after {MAX_ISSUES} issues"),
            });
        }
        self.issues
    }

    fn push(&mut self, severity: Severity, code: IssueCode, expression: &str, message: String) {
        if self.issues.len() >= MAX_ISSUES {
            self.truncated = true;
            return;
        }
        self.issues.push(Issue { severity, code, expression: expression.to_owned(), message });
    }

    fn error(&mut self, code: IssueCode, expression: &str, message: String) {
        self.push(Severity::Error, code, expression, message);
    }

    /// A resource at `at` (`None` for the root), of type `expected` when that is known.
    fn resource(&mut self, value: &Value, at: Option<&str>, expected: Option<&str>) {
        let here = at.map_or_else(|| expected.unwrap_or("Resource").to_owned(), str::to_owned);
        let Value::Object(object) = value else {
            let message = format!("a resource must be a JSON object, found {}", describe(value));
            return self.error(IssueCode::Structure, &here, message);
        };
        let type_name = match object.get("resourceType") {
            None => {
                let message = "a resource must have a resourceType".to_owned();
                return self.error(IssueCode::Required, &here, message);
            }
            Some(Value::String(name)) => name.as_str(),
            Some(other) => {
                let message = format!("resourceType must be a string, found {}", describe(other));
                return self.error(IssueCode::Structure, &format!("{here}.resourceType"), message);
            }
        };
        let defs = self.defs;
        let Some(type_name) =
            defs.type_def(type_name).filter(|_| defs.is_resource(type_name)).map(|t| t.name())
        else {
            let (code, message) = match self.defs.type_def(type_name) {
                Some(t) if t.kind() == Kind::Resource => (
                    IssueCode::Invalid,
                    format!("resourceType '{type_name}' is abstract; name a concrete type"),
                ),
                _ => (IssueCode::NotSupported, format!("unknown resourceType '{type_name}'")),
            };
            return self.error(code, &format!("{here}.resourceType"), message);
        };
        let prefix = at.map_or_else(|| type_name.to_owned(), |at| format!("{at}.ofType({type_name})"));
        if let Some(expected) = expected.filter(|&e| e != type_name) {
            let message = format!("expected a {expected} resource, found resourceType '{type_name}'");
            self.error(IssueCode::Invalid, &format!("{prefix}.resourceType"), message);
        }
        self.complex(object, type_name, "", &prefix, true);
    }

    /// The children of `path` in `type_name`, found in `object` at `expr`.
    fn complex(
        &mut self,
        object: &Map<String, Value>,
        type_name: &'d str,
        path: &str,
        expr: &str,
        root: bool,
    ) {
        if self.truncated {
            return;
        }
        if object.is_empty() {
            return self.error(
                IssueCode::Structure,
                expr,
                "an object must not be empty; omit the element".into(),
            );
        }
        if self.depth >= MAX_DEPTH {
            let message = format!("nested more than {MAX_DEPTH} objects deep; not validated further");
            return self.push(Severity::Error, IssueCode::TooCostly, expr, message);
        }
        self.depth += 1;
        let defs = self.defs;
        let children: Vec<&'d Element> = defs.children(type_name, path).collect();
        // For each child, the properties that hold it: (name as written, choice type) and `_name`.
        let mut values: Vec<Vec<(&str, Option<&'d str>, &Value)>> = vec![Vec::new(); children.len()];
        let mut extensions: Vec<Vec<(&str, Option<&'d str>, &Value)>> = vec![Vec::new(); children.len()];
        for (key, value) in object {
            if key == "resourceType" && root {
                continue;
            }
            let (name, is_extension) = match key.strip_prefix('_') {
                Some(name) => (name, true),
                None => (key.as_str(), false),
            };
            match find_child(&children, name) {
                Some((i, choice)) if !is_extension => values[i].push((name, choice, value)),
                Some((i, choice)) => extensions[i].push((name, choice, value)),
                None => {
                    // `ExampleScenario.instance` has an element called resourceType; others do not.
                    let message = if key == "resourceType" {
                        "resourceType is only allowed at the root of a resource".to_owned()
                    } else if path.is_empty() {
                        format!("unknown element '{key}' in {type_name}")
                    } else {
                        format!("unknown element '{key}' in {type_name}.{path}")
                    };
                    self.error(IssueCode::Structure, &format!("{expr}.{key}"), message);
                }
            }
        }
        for (i, element) in children.iter().enumerate() {
            self.child(element, type_name, expr, &values[i], &extensions[i]);
        }
        self.depth -= 1;
    }

    /// One child element: presence, the single choice, then each property that holds it.
    fn child(
        &mut self,
        element: &'d Element,
        type_name: &'d str,
        expr: &str,
        values: &[(&str, Option<&'d str>, &Value)],
        extensions: &[(&str, Option<&'d str>, &Value)],
    ) {
        let name = element.name().trim_end_matches("[x]");
        if values.is_empty() && extensions.is_empty() {
            if element.min > 0 {
                let message = if element.is_choice() {
                    format!("missing required element {name}[x] (one of {})", choice_names(element))
                } else {
                    format!("missing required element '{name}'")
                };
                self.error(IssueCode::Required, &format!("{expr}.{name}"), message);
            }
            return;
        }
        let mut written: Vec<&str> = values.iter().chain(extensions).map(|(n, _, _)| *n).collect();
        written.sort_unstable();
        written.dedup();
        if written.len() > 1 {
            let message = format!("only one type of {name}[x] may be present, found {}", written.join(", "));
            self.error(IssueCode::Structure, &format!("{expr}.{name}"), message);
        }
        for &json_name in &written {
            let value = values.iter().find(|(n, _, _)| *n == json_name);
            let extension = extensions.iter().find(|(n, _, _)| *n == json_name);
            let choice = value.or(extension).and_then(|(_, choice, _)| *choice);
            let target = self.target(element, type_name, choice);
            let at = format!("{expr}.{json_name}");
            self.property(element, target, &at, value.map(|v| v.2), extension.map(|v| v.2));
        }
    }

    /// What the values of `element` (in `type_name`) are, for the choice type if any.
    fn target(&self, element: &'d Element, type_name: &'d str, choice: Option<&'d str>) -> Target<'d> {
        if let Some(reference) = &element.content_reference {
            let reference = reference.trim_start_matches('#');
            return match reference.split_once('.') {
                Some((t, path)) => Target::Complex { type_name: t, path },
                None => Target::Unknown,
            };
        }
        if element.backbone {
            return Target::Complex { type_name, path: &element.path };
        }
        let Some(code) = choice.or_else(|| element.types.first().map(String::as_str)) else {
            return Target::Unknown;
        };
        match self.defs.type_def(code).map(|t| (t.kind(), t.is_abstract())) {
            Some((Kind::PrimitiveType, _)) => Target::Primitive(code),
            Some((Kind::ComplexType, _)) => Target::Complex { type_name: code, path: "" },
            Some((Kind::Resource, true)) => Target::Resource(None),
            Some((Kind::Resource, false)) => Target::Resource(Some(code)),
            None => Target::Unknown,
        }
    }

    /// The property `name` and its `_name` (at `at`), as an array or a single value.
    fn property<'v>(
        &mut self,
        element: &Element,
        target: Target<'d>,
        at: &str,
        value: Option<&'v Value>,
        ext: Option<&'v Value>,
    ) {
        let name = at.rsplit('.').next().unwrap_or(at);
        if ext.is_some() && (!matches!(target, Target::Primitive(_)) || element.xml_attr) {
            let message =
                format!("'_{name}' is not allowed: only primitive elements carry extensions this way");
            self.error(IssueCode::Structure, &format!("{}._{name}", parent_of(at)), message);
        }
        let ext = ext.filter(|_| matches!(target, Target::Primitive(_)) && !element.xml_attr);
        if element.is_array() {
            self.array(element, target, at, value, ext);
            return;
        }
        for (v, written) in [(value, name.to_owned()), (ext, format!("_{name}"))] {
            match v {
                Some(Value::Array(_)) => {
                    let message =
                        format!("'{written}' must be a single value, not an array (at most one is allowed)");
                    self.error(IssueCode::Structure, at, message);
                }
                Some(Value::Null) => {
                    let message = format!("'{written}' must not be null; omit the element instead");
                    self.error(IssueCode::Structure, at, message);
                }
                _ => {}
            }
        }
        let single = |v: Option<&'v Value>| v.filter(|v| !v.is_array() && !v.is_null());
        self.item(element, target, at, single(value), single(ext));
    }

    fn array<'v>(
        &mut self,
        element: &Element,
        target: Target<'d>,
        at: &str,
        value: Option<&'v Value>,
        ext: Option<&'v Value>,
    ) {
        let name = at.rsplit('.').next().unwrap_or(at);
        let values = self.as_array(value, name, at);
        let extensions = self.as_array(ext, &format!("_{name}"), at);
        let (Some(values), Some(extensions)) = (values, extensions) else { return };
        if !values.is_empty() && !extensions.is_empty() && values.len() != extensions.len() {
            let message = format!(
                "'_{name}' has {} items but '{name}' has {}: the arrays must be aligned",
                extensions.len(),
                values.len()
            );
            self.error(IssueCode::Structure, at, message);
        }
        let count = values.len().max(extensions.len());
        if let Max::Count(max) = element.max
            && count > max as usize
        {
            let message = format!("'{name}' has {count} items, at most {max} are allowed");
            self.error(IssueCode::Structure, at, message);
        }
        if count < element.min as usize && count > 0 {
            let message = format!("'{name}' has {count} items, at least {} are required", element.min);
            self.error(IssueCode::Required, at, message);
        }
        let primitive = matches!(target, Target::Primitive(_));
        for i in 0..count {
            if self.truncated {
                return;
            }
            let item = |items: &'v [Value]| items.get(i).filter(|v| !v.is_null());
            let (v, x) = (item(values), item(extensions));
            let at_i = format!("{at}[{i}]");
            let null_value = values.get(i).is_some_and(Value::is_null);
            let null_ext = extensions.get(i).is_some_and(Value::is_null);
            let both_missing = v.is_none() && x.is_none();
            let message = match (null_value, null_ext) {
                (true, _) if !primitive => Some(format!("null is not allowed in '{name}'")),
                (true, true) if both_missing => {
                    Some(format!("'{name}' and '_{name}' are both null at index {i}"))
                }
                (true, false) if both_missing => {
                    Some(format!("null in '{name}' needs extensions at the same index of '_{name}'"))
                }
                (false, true) if both_missing => {
                    Some(format!("null in '_{name}' needs a value at the same index of '{name}'"))
                }
                _ => None,
            };
            if let Some(message) = message {
                self.error(IssueCode::Structure, &at_i, message);
            }
            if v.is_none() && x.is_none() {
                continue;
            }
            for nested in [&v, &x].into_iter().flatten() {
                if nested.is_array() {
                    let message = format!("an item of '{name}' must not itself be an array");
                    self.error(IssueCode::Structure, &at_i, message);
                }
            }
            let v = v.filter(|v| !v.is_array());
            let x = x.filter(|x| !x.is_array());
            self.item(element, target, &at_i, v, x);
        }
    }

    /// The items of a property that must be an array (none if absent); `None` if it is not one.
    fn as_array<'v>(&mut self, value: Option<&'v Value>, written: &str, at: &str) -> Option<&'v [Value]> {
        match value {
            None => Some(&[]),
            Some(Value::Array(items)) if items.is_empty() => {
                let message = format!("'{written}' must not be an empty array; omit the element instead");
                self.error(IssueCode::Structure, at, message);
                None
            }
            Some(Value::Array(items)) => Some(items),
            Some(other) => {
                let message = format!(
                    "'{written}' must be an array (more than one is allowed), found {}",
                    describe(other)
                );
                self.error(IssueCode::Structure, at, message);
                None
            }
        }
    }

    /// One value (and its primitive extensions) of `element`, not an array and not null.
    fn item(
        &mut self,
        element: &Element,
        target: Target<'d>,
        at: &str,
        value: Option<&Value>,
        ext: Option<&Value>,
    ) {
        if let (Some(ext), Target::Primitive(type_name)) = (ext, target) {
            match ext {
                Value::Object(object) => self.complex(object, type_name, "", at, false),
                other => {
                    let name = at.rsplit('.').next().unwrap_or(at);
                    let message = format!(
                        "the extensions of '{name}' must be an object with id and extension, found {}",
                        describe(other)
                    );
                    self.error(IssueCode::Structure, at, message);
                }
            }
        }
        let Some(value) = value else { return };
        match target {
            Target::Primitive(type_name) => {
                if self.primitive(value, type_name, at) {
                    self.binding_of_code(element, value, at);
                }
            }
            Target::Complex { type_name, path } => match value {
                Value::Object(object) => {
                    self.complex(object, type_name, path, at, false);
                    if path.is_empty() {
                        self.binding_of_coding(element, type_name, value, at);
                    }
                }
                other => {
                    let kind =
                        if path.is_empty() { type_name.to_owned() } else { "backbone element".to_owned() };
                    let message = format!("expected a JSON object ({kind}), found {}", describe(other));
                    self.error(IssueCode::Structure, at, message);
                }
            },
            Target::Resource(expected) => self.resource(value, Some(at), expected),
            Target::Unknown => {}
        }
    }

    /// Checks the JSON kind and lexical form of a primitive value; returns whether it is valid.
    fn primitive(&mut self, value: &Value, type_name: &str, at: &str) -> bool {
        let Some(kind) = self.defs.type_def(type_name).and_then(|t| t.json_kind()) else { return true };
        let problem = match (kind, value) {
            (JsonKind::Boolean, Value::Bool(_)) => return true,
            (JsonKind::Integer, Value::Number(n)) => {
                let text = n.to_string();
                primitive::check_integer(type_name, &text)
                    .map_err(|why| (IssueCode::Value, format!("invalid {type_name} {text}: {why}")))
            }
            (JsonKind::Decimal, Value::Number(n)) => {
                let text = n.to_string();
                if primitive::is_decimal(&text) {
                    Ok(())
                } else {
                    Err((IssueCode::Value, format!("invalid decimal {text}")))
                }
            }
            (JsonKind::String, Value::String(s)) if s.is_empty() => Err((
                IssueCode::Value,
                format!("a {type_name} value must not be empty; omit the element instead"),
            )),
            (JsonKind::String, Value::String(s)) => {
                if type_name != "xhtml"
                    && s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
                {
                    let message = format!("the {type_name} contains control characters");
                    self.push(Severity::Warning, IssueCode::Value, at, message);
                }
                primitive::check_string(type_name, s).map_err(|why| {
                    (IssueCode::Value, format!("invalid {type_name} {}: {why}", Value::String(s.clone())))
                })
            }
            (kind, other) => {
                let expected = match kind {
                    JsonKind::Boolean => "a JSON boolean (true or false)",
                    JsonKind::Integer => "a JSON number without fraction",
                    JsonKind::Decimal => "a JSON number",
                    JsonKind::String => "a JSON string",
                };
                Err((
                    IssueCode::Structure,
                    format!("a {type_name} must be {expected}, found {}", describe(other)),
                ))
            }
        };
        match problem {
            Ok(()) => true,
            Err((code, message)) => {
                self.error(code, at, message);
                false
            }
        }
    }

    /// A code-typed element (`code`, or `string`/`uri`) under a required binding.
    fn binding_of_code(&mut self, element: &Element, value: &Value, at: &str) {
        let (Some(value_set), Value::String(code)) = (self.bound_value_set(element), value) else { return };
        if !value_set.contains(None, code) {
            let message = format!(
                "{} is not a code of the required value set {}; {}",
                Value::String(code.clone()),
                value_set.url(),
                allowed(value_set)
            );
            self.error(IssueCode::CodeInvalid, at, message);
        }
    }

    /// A Coding or CodeableConcept under a required binding: a coding with a code must come from
    /// the value set (for a CodeableConcept, at least one of its codings).
    fn binding_of_coding(&mut self, element: &Element, type_name: &str, value: &Value, at: &str) {
        let Some(value_set) = self.bound_value_set(element) else { return };
        let in_set = |coding: &Value| {
            let code = coding.get("code").and_then(Value::as_str)?;
            let system = coding.get("system").and_then(Value::as_str);
            Some(value_set.contains(system, code))
        };
        match type_name {
            "Coding" if in_set(value) == Some(false) => {
                let message = format!(
                    "the coding is not in the required value set {}; {}",
                    value_set.url(),
                    allowed(value_set)
                );
                self.error(IssueCode::CodeInvalid, at, message);
            }
            "CodeableConcept" => {
                let codings =
                    value.get("coding").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                let results: Vec<bool> = codings.iter().filter_map(in_set).collect();
                if !results.is_empty() && !results.contains(&true) {
                    let message = format!(
                        "no coding is in the required value set {}; {}",
                        value_set.url(),
                        allowed(value_set)
                    );
                    self.error(IssueCode::CodeInvalid, &format!("{at}.coding"), message);
                }
            }
            _ => {}
        }
    }

    fn bound_value_set(&self, element: &Element) -> Option<&'d ValueSet> {
        element.binding.as_deref().and_then(|url| self.defs.value_set(url))
    }
}

/// The child of `children` written as `name`, with the choice type for `valueQuantity`.
fn find_child<'d>(children: &[&'d Element], name: &str) -> Option<(usize, Option<&'d str>)> {
    if let Some(i) = children.iter().position(|e| !e.is_choice() && e.name() == name) {
        return Some((i, None));
    }
    children.iter().enumerate().find_map(|(i, e)| {
        let base = e.name().strip_suffix("[x]")?;
        let suffix = name.strip_prefix(base)?;
        let choice = e.types.iter().find(|t| capitalize(t) == suffix)?;
        Some((i, Some(choice.as_str())))
    })
}

fn capitalize(type_code: &str) -> String {
    let mut chars = type_code.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

fn choice_names(element: &Element) -> String {
    let base = element.name().trim_end_matches("[x]");
    element.types.iter().map(|t| format!("{base}{}", capitalize(t))).collect::<Vec<_>>().join(", ")
}

fn allowed(value_set: &ValueSet) -> String {
    if value_set.len() <= LIST_CODES {
        format!("expected one of: {}", value_set.codes().collect::<Vec<_>>().join(", "))
    } else {
        format!("expected one of its {} codes", value_set.len())
    }
}

/// `Patient.name[0]` → `Patient`; the expression of the object holding a property.
fn parent_of(at: &str) -> &str {
    at.rsplit_once('.').map_or(at, |(parent, _)| parent)
}

/// A short description of a JSON value for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string {}", Value::String(s.clone())),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
