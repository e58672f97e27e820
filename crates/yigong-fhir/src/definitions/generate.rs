//! The generator of `r4.json` from the official package. Build tooling: the only code of the
//! crate that reads files, run by `examples/gen-definitions.rs` and by the freshness test.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// Why the tables could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// A file or the directory could not be read.
    #[error("read {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("parse {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A definition lacks something the generator relies on.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// What is missing or unexpected.
        message: String,
    },
}

const SD_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";
const SYSTEM_PREFIX: &str = "http://hl7.org/fhirpath/System.";
const FHIR_TYPE_EXT: &str = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

/// Codes by system, in value set order.
type Expansion = BTreeMap<String, Vec<String>>;

/// Reads the unpacked package `hl7.fhir.r4.examples` 4.0.1 in `package_dir` and returns the
/// text of `r4.json`: the core resource, complex and primitive types with their snapshot
/// elements, the expanded required bindings, and the required bindings left unexpanded.
pub fn generate(package_dir: &Path) -> Result<String, GenError> {
    let mut structures = BTreeMap::new();
    let mut value_sets = BTreeMap::new();
    let mut code_systems = BTreeMap::new();
    let entries = std::fs::read_dir(package_dir).map_err(|source| io(package_dir, source))?;
    let mut files = Vec::new();
    for entry in entries {
        files.push(entry.map_err(|source| io(package_dir, source))?.path());
    }
    files.sort();
    for path in files {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let target = if name.starts_with("StructureDefinition-") {
            &mut structures
        } else if name.starts_with("ValueSet-") {
            &mut value_sets
        } else if name.starts_with("CodeSystem-") {
            &mut code_systems
        } else {
            continue;
        };
        if !name.ends_with(".json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| io(&path, source))?;
        let value: Value =
            serde_json::from_str(&text).map_err(|source| GenError::Json { path: path.clone(), source })?;
        let Some(url) = value.get("url").and_then(Value::as_str) else { continue };
        // Files are read in name order, so the first of two with one URL wins, reproducibly.
        target.entry(url.to_owned()).or_insert(value);
    }

    let mut expander = Expander {
        value_sets: &value_sets,
        code_systems: &code_systems,
        done: BTreeMap::new(),
        unexpanded: BTreeMap::new(),
    };
    let mut types = BTreeMap::new();
    for (url, sd) in &structures {
        let file = url.clone();
        let invalid = |message: &str| GenError::Invalid { file: file.clone(), message: message.to_owned() };
        let kind = sd.get("kind").and_then(Value::as_str).ok_or_else(|| invalid("no kind"))?;
        let derivation = sd.get("derivation").and_then(Value::as_str);
        let name = sd.get("type").and_then(Value::as_str).ok_or_else(|| invalid("no type"))?;
        let core = url.strip_prefix(SD_PREFIX) == Some(name);
        if !matches!(kind, "resource" | "complex-type" | "primitive-type")
            || derivation == Some("constraint")
            || !core
        {
            continue;
        }
        types.insert(name.to_owned(), type_entry(sd, name, kind, &mut expander).map_err(|m| invalid(&m))?);
    }

    inherit_json_kinds(&mut types);

    let mut used = BTreeSet::new();
    for t in types.values() {
        for e in t["elements"].as_array().into_iter().flatten() {
            if let Some(url) = e.get("binding").and_then(Value::as_str) {
                used.insert(url.to_owned());
            }
        }
    }
    let unexpanded = expander.unexpanded.iter().map(|(url, paths)| {
        let reason = match expander.done.get(url) {
            Some(Err(reason)) => reason.clone(),
            _ => String::new(),
        };
        (url.as_str(), json!({"reason": reason, "elements": paths}))
    });
    // Only value sets that some element is bound to, directly; imports are flattened into them.
    let mut out = String::from("{\"fhirVersion\":\"4.0.1\",\n\"types\":{\n");
    write_entries(&mut out, types.iter().map(|(k, v)| (k.as_str(), v.clone())));
    out.push_str("},\n\"valueSets\":{\n");
    write_entries(
        &mut out,
        used.iter().filter_map(|url| match expander.done.get(url) {
            Some(Ok(expansion)) => Some((url.as_str(), json!(expansion))),
            _ => None,
        }),
    );
    out.push_str("},\n\"unexpandedRequiredBindings\":{\n");
    write_entries(&mut out, unexpanded);
    out.push_str("}}\n");
    Ok(out)
}

/// Writes `"key":value` pairs one per line, so that a regenerated file diffs line by line.
fn write_entries<'a>(out: &mut String, entries: impl Iterator<Item = (&'a str, Value)>) {
    let mut first = true;
    for (key, value) in entries {
        if !first {
            out.push_str(",\n");
        }
        first = false;
        let _ = write!(out, "{}:{}", Value::String(key.to_owned()), value);
    }
    out.push('\n');
}

fn io(path: &Path, source: std::io::Error) -> GenError {
    GenError::Io { path: path.to_owned(), source }
}

fn type_entry(sd: &Value, name: &str, kind: &str, expander: &mut Expander) -> Result<Value, String> {
    let snapshot = sd.pointer("/snapshot/element").and_then(Value::as_array).ok_or("no snapshot")?;
    let mut entry = Map::new();
    entry.insert("kind".into(), kind.into());
    if sd.get("abstract").and_then(Value::as_bool) == Some(true) {
        entry.insert("abstract".into(), true.into());
    }
    if let Some(base) = sd.get("baseDefinition").and_then(Value::as_str) {
        entry.insert("base".into(), base.strip_prefix(SD_PREFIX).unwrap_or(base).into());
    }
    let paths: Vec<&str> = snapshot.iter().filter_map(|e| e.get("path").and_then(Value::as_str)).collect();
    let mut elements = Vec::new();
    for e in snapshot {
        let full = e.get("path").and_then(Value::as_str).ok_or("element without path")?;
        let Some(path) = full.strip_prefix(name).and_then(|p| p.strip_prefix('.')) else { continue };
        if kind == "primitive-type" && path == "value" {
            entry.insert("json".into(), primitive_json(e)?.into());
            continue;
        }
        elements.push(element_entry(e, name, kind, path, &paths, expander)?);
    }
    entry.insert("elements".into(), elements.into());
    Ok(entry.into())
}

/// A primitive that specialises another is written like it in JSON. R4's snapshots type the
/// `value` of `positiveInt` and `unsignedInt` as `System.String`, yet both are JSON numbers
/// (R4 §2.6.2), like the `integer` they specialise.
fn inherit_json_kinds(types: &mut BTreeMap<String, Value>) {
    let names: Vec<String> = types.keys().cloned().collect();
    for name in names {
        let mut base = types[&name].get("base").and_then(Value::as_str).map(str::to_owned);
        let mut inherited = None;
        while let Some(b) = base {
            let Some(t) = types.get(&b) else { break };
            if let Some(json) = t.get("json") {
                inherited = Some(json.clone());
            }
            base = t.get("base").and_then(Value::as_str).map(str::to_owned);
        }
        if let (Some(json), Some(entry)) = (inherited, types.get_mut(&name).and_then(Value::as_object_mut))
            && entry.contains_key("json")
        {
            entry.insert("json".into(), json);
        }
    }
}

/// The JSON representation of a primitive, from the FHIRPath system type of its `value`.
fn primitive_json(value_element: &Value) -> Result<&'static str, String> {
    let code = value_element.pointer("/type/0/code").and_then(Value::as_str).ok_or("value without type")?;
    Ok(match code.strip_prefix(SYSTEM_PREFIX) {
        Some("Boolean") => "boolean",
        Some("Integer") => "integer",
        Some("Decimal") => "decimal",
        _ => "string",
    })
}

fn element_entry(
    e: &Value,
    type_name: &str,
    kind: &str,
    path: &str,
    all_paths: &[&str],
    expander: &mut Expander,
) -> Result<Value, String> {
    let mut entry = Map::new();
    entry.insert("path".into(), path.into());
    let min = e.get("min").and_then(Value::as_u64).ok_or_else(|| format!("{path}: no min"))?;
    entry.insert("min".into(), min.into());
    let max = e.get("max").and_then(Value::as_str).ok_or_else(|| format!("{path}: no max"))?;
    entry.insert(
        "max".into(),
        if max == "*" {
            max.into()
        } else {
            max.parse::<u64>().map_err(|_| format!("{path}: max {max}"))?.into()
        },
    );
    let representation = e.get("representation").and_then(Value::as_array);
    let xml_attr = representation.is_some_and(|r| r.iter().any(|r| r == "xmlAttr"));
    let mut types = Vec::new();
    for t in e.get("type").and_then(Value::as_array).into_iter().flatten() {
        let code =
            t.get("code").and_then(Value::as_str).ok_or_else(|| format!("{path}: type without code"))?;
        let code = if code.starts_with(SYSTEM_PREFIX) {
            // `id` of a resource is an `id` (R4 §2.27 "Resource"), though its snapshot says
            // `string`; other system-typed elements name their FHIR type in an extension.
            if kind == "resource" && path == "id" { "id" } else { fhir_type_extension(t).unwrap_or("string") }
        } else {
            code
        };
        types.push(Value::from(code));
    }
    if !types.is_empty() {
        entry.insert("types".into(), types.clone().into());
    }
    if let Some(reference) = e.get("contentReference").and_then(Value::as_str) {
        entry.insert("contentReference".into(), reference.into());
    }
    let full = format!("{type_name}.{path}.");
    let backbone = types.len() == 1
        && (types[0] == "BackboneElement" || types[0] == "Element")
        && all_paths.iter().any(|p| p.starts_with(&full));
    if backbone {
        entry.insert("backbone".into(), true.into());
    }
    if xml_attr {
        entry.insert("xmlAttr".into(), true.into());
    }
    if let Some(binding) = e.get("binding")
        && binding.get("strength").and_then(Value::as_str) == Some("required")
        && let Some(url) = binding.get("valueSet").and_then(Value::as_str)
    {
        let url = url.split('|').next().unwrap_or(url);
        if expander.expand(url).is_ok() {
            entry.insert("binding".into(), url.into());
        } else {
            expander.unexpanded.entry(url.to_owned()).or_default().push(format!("{type_name}.{path}"));
        }
    }
    Ok(entry.into())
}

fn fhir_type_extension(t: &Value) -> Option<&str> {
    t.get("extension")?
        .as_array()?
        .iter()
        .find(|x| x.get("url").and_then(Value::as_str) == Some(FHIR_TYPE_EXT))?
        .get("valueUrl")?
        .as_str()
}

/// Expands value sets from the package alone, remembering each result (and each failure).
struct Expander<'a> {
    value_sets: &'a BTreeMap<String, Value>,
    code_systems: &'a BTreeMap<String, Value>,
    done: BTreeMap<String, Result<Expansion, String>>,
    /// Required bindings that could not be expanded, with the elements bound to them.
    unexpanded: BTreeMap<String, Vec<String>>,
}

impl Expander<'_> {
    fn expand(&mut self, url: &str) -> Result<Expansion, String> {
        if let Some(result) = self.done.get(url) {
            return result.clone();
        }
        // Marks the value set as in progress, so that an import cycle fails instead of looping.
        self.done.insert(url.to_owned(), Err(format!("value set {url} imports itself")));
        let result = self.expand_uncached(url);
        self.done.insert(url.to_owned(), result.clone());
        result
    }

    fn expand_uncached(&mut self, url: &str) -> Result<Expansion, String> {
        let vs = self.value_sets.get(url).ok_or_else(|| format!("value set {url} is not in the package"))?;
        let Some(compose) = vs.get("compose") else {
            return Err(format!("value set {url} has no compose"));
        };
        let mut expansion = Expansion::new();
        for include in compose.get("include").and_then(Value::as_array).into_iter().flatten() {
            if include.get("filter").is_some() {
                let system = include.get("system").and_then(Value::as_str).unwrap_or("?");
                return Err(format!("includes {system} with a filter"));
            }
            let system = include.get("system").and_then(Value::as_str);
            let imports = include.get("valueSet").and_then(Value::as_array);
            match (system, imports) {
                (Some(_), Some(_)) => return Err("includes a system intersected with a value set".into()),
                (None, Some(imports)) => {
                    for import in imports {
                        let import = import.as_str().ok_or("import is not a string")?;
                        let import = import.split('|').next().unwrap_or(import);
                        for (system, codes) in self.expand(import)? {
                            for code in codes {
                                push_code(&mut expansion, &system, code);
                            }
                        }
                    }
                }
                (Some(system), None) => match include.get("concept").and_then(Value::as_array) {
                    Some(concepts) => {
                        for c in concepts {
                            let code = c.get("code").and_then(Value::as_str).ok_or("concept without code")?;
                            push_code(&mut expansion, system, code.to_owned());
                        }
                    }
                    None => {
                        for code in self.whole_system(system)? {
                            push_code(&mut expansion, system, code);
                        }
                    }
                },
                (None, None) => return Err("an include with neither system nor value set".into()),
            }
        }
        for exclude in compose.get("exclude").and_then(Value::as_array).into_iter().flatten() {
            let (Some(system), Some(concepts), None) = (
                exclude.get("system").and_then(Value::as_str),
                exclude.get("concept").and_then(Value::as_array),
                exclude.get("filter"),
            ) else {
                return Err("an exclude other than a list of concepts".into());
            };
            let excluded: BTreeSet<&str> = concepts.iter().filter_map(|c| c.get("code")?.as_str()).collect();
            if let Some(codes) = expansion.get_mut(system) {
                codes.retain(|c| !excluded.contains(c.as_str()));
            }
        }
        expansion.retain(|_, codes| !codes.is_empty());
        if expansion.is_empty() {
            return Err("expands to no codes".into());
        }
        Ok(expansion)
    }

    /// Every code of a complete code system of the package, nested concepts included.
    fn whole_system(&self, system: &str) -> Result<Vec<String>, String> {
        let cs = self
            .code_systems
            .get(system)
            .ok_or_else(|| format!("code system {system} is not in the package"))?;
        let content = cs.get("content").and_then(Value::as_str).unwrap_or("?");
        if content != "complete" {
            return Err(format!("code system {system} has content {content}"));
        }
        let mut codes = Vec::new();
        collect_concepts(cs.get("concept"), &mut codes)?;
        Ok(codes)
    }
}

fn collect_concepts(concepts: Option<&Value>, out: &mut Vec<String>) -> Result<(), String> {
    for c in concepts.and_then(Value::as_array).into_iter().flatten() {
        out.push(c.get("code").and_then(Value::as_str).ok_or("concept without code")?.to_owned());
        collect_concepts(c.get("concept"), out)?;
    }
    Ok(())
}

fn push_code(expansion: &mut Expansion, system: &str, code: String) {
    let codes = expansion.entry(system.to_owned()).or_default();
    if !codes.contains(&code) {
        codes.push(code);
    }
}
