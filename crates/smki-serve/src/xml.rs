//! The DCC Boxed SMKI web service's request bodies, read with quick-xml: a root element
//! with simple child elements, nothing else (docs/service.md, "Wire format").
use quick_xml::events::Event;
use quick_xml::Reader;
use std::fmt;

/// The largest request body the DCC endpoints read.
pub const MAX_XML_BYTES: usize = 16 * 1024;

/// The most child elements a request may have.
const MAX_CHILDREN: usize = 16;

/// A request body that is not the XML the service reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed XML (quick-xml's error), at a byte offset.
    Malformed { offset: u64, why: String },
    /// Well-formed, but not of the request's shape: a DTD, a namespace prefix, an element
    /// nested too deep, an attribute other than a default `xmlns`, text outside an element.
    Shape { offset: u64, why: String },
    /// Another root element than the endpoint's request.
    Root {
        expected: &'static str,
        found: String,
    },
    /// A child element the request does not have.
    UnknownElement { name: String },
    /// A child element given twice.
    Repeated { name: String },
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlError::Malformed { offset, why } => {
                write!(f, "malformed XML at byte {offset}: {why}")
            }
            XmlError::Shape { offset, why } => write!(f, "unexpected XML at byte {offset}: {why}"),
            XmlError::Root { expected, found } => {
                write!(f, "expected a {expected} element, found {found:?}")
            }
            XmlError::UnknownElement { name } => write!(f, "unknown element {name:?}"),
            XmlError::Repeated { name } => write!(f, "element {name:?} given twice"),
        }
    }
}

impl std::error::Error for XmlError {}

/// Reads `body` as `<ROOT><Child>text</Child>...</ROOT>` with root `root` and children
/// among `known`: their (name, text) in order. Comments, processing instructions, the XML
/// declaration and whitespace between elements are ignored; a default namespace
/// declaration (`xmlns="..."`) on any element is allowed; anything else (a DTD, a prefix, an
/// attribute, a deeper element) is an error.
pub fn read_request(
    body: &[u8],
    root: &'static str,
    known: &[&'static str],
) -> Result<Vec<(&'static str, String)>, XmlError> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut children: Vec<(&'static str, String)> = Vec::new();
    // Depth: 0 before the root, 1 in the root, 2 in a child.
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut current: Option<(&'static str, String)> = None;
    loop {
        let offset = reader.buffer_position();
        let shape = |why: &str| XmlError::Shape {
            offset,
            why: why.to_string(),
        };
        let event = reader.read_event().map_err(|e| XmlError::Malformed {
            offset: reader.error_position(),
            why: e.to_string(),
        })?;
        match event {
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => return Err(shape("a document type declaration")),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.name();
                if name.prefix().is_some() {
                    return Err(shape(
                        "a namespace prefix (the service reads unprefixed names)",
                    ));
                }
                for attr in e.attributes() {
                    let attr = attr.map_err(|err| XmlError::Malformed {
                        offset,
                        why: err.to_string(),
                    })?;
                    if attr.key.as_ref() != b"xmlns" {
                        return Err(shape(&format!(
                            "an attribute {:?}",
                            String::from_utf8_lossy(attr.key.as_ref())
                        )));
                    }
                }
                let local = String::from_utf8_lossy(name.as_ref()).into_owned();
                match depth {
                    0 => {
                        if root_seen {
                            return Err(shape("a second root element"));
                        }
                        if local != root {
                            return Err(XmlError::Root {
                                expected: root,
                                found: local,
                            });
                        }
                        root_seen = true;
                    }
                    1 => {
                        let Some(&k) = known.iter().find(|k| **k == local) else {
                            return Err(XmlError::UnknownElement { name: local });
                        };
                        if children.iter().any(|(n, _)| *n == k) {
                            return Err(XmlError::Repeated { name: local });
                        }
                        if children.len() >= MAX_CHILDREN {
                            return Err(shape("too many elements"));
                        }
                        if empty {
                            children.push((k, String::new()));
                        } else {
                            current = Some((k, String::new()));
                        }
                    }
                    _ => return Err(shape("an element nested in a field")),
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    if let Some(c) = current.take() {
                        children.push(c);
                    }
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| XmlError::Malformed {
                    offset,
                    why: e.to_string(),
                })?;
                match (&mut current, depth) {
                    (Some((_, value)), 2) => value.push_str(&text),
                    _ => return Err(shape("text outside a field")),
                }
            }
            Event::CData(t) => match (&mut current, depth) {
                (Some((_, value)), 2) => value.push_str(&String::from_utf8_lossy(&t)),
                _ => return Err(shape("text outside a field")),
            },
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| XmlError::Malformed {
                            offset,
                            why: e.to_string(),
                        })?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| shape(&format!("an undeclared entity &{name};")))?
                            .to_string()
                    }
                    Err(e) => {
                        return Err(XmlError::Malformed {
                            offset,
                            why: e.to_string(),
                        })
                    }
                };
                match (&mut current, depth) {
                    (Some((_, value)), 2) => value.push_str(&resolved),
                    _ => return Err(shape("text outside a field")),
                }
            }
            Event::Eof => {
                if !root_seen {
                    return Err(XmlError::Root {
                        expected: root,
                        found: String::new(),
                    });
                }
                if depth != 0 {
                    return Err(XmlError::Malformed {
                        offset,
                        why: "the document ends inside an element".into(),
                    });
                }
                return Ok(children);
            }
        }
    }
}
