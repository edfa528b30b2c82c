//! A small regular-expression engine for filters' `$regex`: it answers "does the pattern occur
//! in this text" in time linear in the text (a Pike VM over a compiled NFA), so no pattern, and
//! no event, can make a filter take exponential time.
//!
//! Why not the `regex` crate: with its Unicode tables it is larger than the whole npm module's
//! size budget; `regex-lite` still costs several times this file. The syntax is the common
//! subset of JavaScript, Go (RE2) and Rust, so a pattern means the same in each:
//!
//! - literals, `.` (any character but `\n`, unless the `s` flag), `^` and `$` (the text's start
//!   and end, or a line's with the `m` flag), `\b` and `\B`;
//! - classes `[abc]`, `[^a-z0-9_]`, and `\d \D \w \W \s \S` (ASCII, as in RE2 and JavaScript);
//! - escapes `\t \n \r \f \v \0 \xHH \u{H…} \uHHHH` and any escaped punctuation;
//! - groups `( )`, `(?: )`, `(?<name> )`, `(?P<name> )` (nothing is captured: only whether the
//!   pattern matches is asked), alternation `|`;
//! - repetition `* + ? {n} {n,} {n,m}` (m at most 1,000), greedy or lazy (`*?`; the same result
//!   for a yes/no match);
//! - flags `(?i)`, `(?m)`, `(?s)` (and combinations, `(?i:…)` for a group): `i` compares by
//!   simple Unicode case folding.
//!
//! Backreferences and lookaround are refused (no linear-time engine has them), as is anything
//! else outside this list: a pattern never silently means something other than it says.

/// Why a pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RegexError {
    /// Character offset in the pattern.
    pub at: usize,
    /// What is wrong.
    pub why: &'static str,
}

/// Compiled programs larger than this are refused (the time per character grows with it).
const MAX_PROGRAM: usize = 4096;
/// The largest count in `{n,m}`.
const MAX_REPEAT: u32 = 1000;
/// Groups nested deeper than this are refused (the parser recurses per group).
const MAX_NESTING: usize = 64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags {
    icase: bool,
    multiline: bool,
    dotall: bool,
}

/// One item of a character class.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Class {
    items: Vec<ClassItem>,
    negated: bool,
    icase: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Inst {
    Char(char),
    /// A character, compared by case folding.
    Fold(char),
    Class(Class),
    /// Any character (`dotall`) or any but `\n`.
    Any(bool),
    Split(usize, usize),
    Jmp(usize),
    /// `^` (`true`: at a line start too).
    Start(bool),
    /// `$` (`true`: at a line end too).
    End(bool),
    /// `\b` (`true`) or `\B`.
    Boundary(bool),
    Match,
}

#[derive(Clone, Debug)]
enum Ast {
    Empty,
    Char(char, bool),
    Class(Class),
    Any(bool),
    Start(bool),
    End(bool),
    Boundary(bool),
    Concat(Vec<Ast>),
    Alt(Vec<Ast>),
    Repeat(Box<Ast>, u32, Option<u32>),
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Regex {
    prog: Vec<Inst>,
}

impl Regex {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut p = Parser {
            chars: &chars,
            pos: 0,
            depth: 0,
        };
        let ast = p.alternation(Flags::default())?;
        if p.pos < chars.len() {
            return Err(p.err("unmatched `)`"));
        }
        let mut prog = Vec::new();
        compile(&ast, &mut prog)?;
        prog.push(Inst::Match);
        if prog.len() > MAX_PROGRAM {
            return Err(RegexError {
                at: 0,
                why: "the pattern is too large (repetition counts multiply its size)",
            });
        }
        Ok(Self { prog })
    }

    /// Whether the pattern occurs anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let n = self.prog.len();
        let mut clist = Threads::new(n);
        let mut nlist = Threads::new(n);
        let mut prev: Option<char> = None;
        let mut iter = text.chars().peekable();
        loop {
            let cur = iter.peek().copied();
            let at = At { prev, cur };
            // Unanchored: a new thread starts at every position.
            self.add(&mut clist, 0, at);
            if clist.matched {
                return true;
            }
            let Some(c) = cur else {
                return false;
            };
            iter.next();
            let next_at = At {
                prev: Some(c),
                cur: iter.peek().copied(),
            };
            nlist.clear();
            for i in 0..clist.len {
                let Some(&pc) = clist.dense.get(i) else {
                    break;
                };
                if self.step(pc, c) {
                    self.add(&mut nlist, pc + 1, next_at);
                }
            }
            if nlist.matched {
                return true;
            }
            core::mem::swap(&mut clist, &mut nlist);
            prev = Some(c);
        }
    }

    /// Whether the instruction at `pc` consumes `c`.
    fn step(&self, pc: usize, c: char) -> bool {
        match self.prog.get(pc) {
            Some(Inst::Char(x)) => *x == c,
            Some(Inst::Fold(x)) => *x == fold(c),
            Some(Inst::Class(class)) => class.contains(c),
            Some(Inst::Any(dotall)) => *dotall || c != '\n',
            _ => false,
        }
    }

    /// Adds `pc` and everything reachable from it without consuming a character.
    fn add(&self, list: &mut Threads, pc: usize, at: At) {
        let mut stack = core::mem::take(&mut list.stack);
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if !list.insert(pc) {
                continue;
            }
            match self.prog.get(pc) {
                Some(Inst::Jmp(to)) => stack.push(*to),
                Some(Inst::Split(a, b)) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Some(Inst::Start(multi))
                    if at.prev.is_none() || (*multi && at.prev == Some('\n')) =>
                {
                    stack.push(pc + 1);
                }
                Some(Inst::End(multi)) if at.cur.is_none() || (*multi && at.cur == Some('\n')) => {
                    stack.push(pc + 1);
                }
                Some(Inst::Boundary(want)) => {
                    let word = |c: Option<char>| c.is_some_and(is_word);
                    if (word(at.prev) != word(at.cur)) == *want {
                        stack.push(pc + 1);
                    }
                }
                Some(Inst::Match) => list.matched = true,
                _ => {}
            }
        }
        list.stack = stack;
    }
}

/// The characters either side of a position.
#[derive(Clone, Copy)]
struct At {
    prev: Option<char>,
    cur: Option<char>,
}

/// A sparse set of program counters (the threads at one position), in insertion order.
struct Threads {
    dense: Vec<usize>,
    sparse: Vec<usize>,
    len: usize,
    matched: bool,
    /// Scratch for [`Regex::add`], kept to reuse its allocation.
    stack: Vec<usize>,
}

impl Threads {
    fn new(n: usize) -> Self {
        Self {
            dense: vec![0; n],
            sparse: vec![0; n],
            len: 0,
            matched: false,
            stack: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.len = 0;
        self.matched = false;
    }

    /// Inserts `pc`; `false` when it was there.
    fn insert(&mut self, pc: usize) -> bool {
        let present = self
            .sparse
            .get(pc)
            .is_some_and(|&i| i < self.len && self.dense.get(i) == Some(&pc));
        if present {
            return false;
        }
        if let (Some(s), Some(d)) = (self.sparse.get_mut(pc), self.dense.get_mut(self.len)) {
            *s = self.len;
            *d = pc;
            self.len += 1;
        }
        true
    }
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Simple case folding: the first character of the lower-case form.
fn fold(c: char) -> char {
    crate::case::lower(c)
}

impl Class {
    fn contains(&self, c: char) -> bool {
        let hit = |c: char| self.items.iter().any(|i| i.contains(c));
        let found = if self.icase {
            crate::case::any_case(c, hit)
        } else {
            hit(c)
        };
        found != self.negated
    }
}

impl ClassItem {
    fn contains(&self, c: char) -> bool {
        match *self {
            Self::Range(lo, hi) => lo <= c && c <= hi,
            Self::Digit(yes) => c.is_ascii_digit() == yes,
            Self::Word(yes) => is_word(c) == yes,
            Self::Space(yes) => matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c') == yes,
        }
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, why: &'static str) -> RegexError {
        RegexError { at: self.pos, why }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn alternation(&mut self, flags: Flags) -> Result<Ast, RegexError> {
        let mut flags = flags;
        let mut branches = vec![self.concat(&mut flags)?];
        while self.eat('|') {
            branches.push(self.concat(&mut flags)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Ast::Empty)
        } else {
            Ast::Alt(branches)
        })
    }

    /// A sequence up to `|`, `)` or the end. `(?i)` and friends change `flags` for the rest of
    /// the enclosing group.
    fn concat(&mut self, flags: &mut Flags) -> Result<Ast, RegexError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = match c {
                '(' => match self.group(flags)? {
                    Some(a) => a,
                    None => continue,
                },
                _ => self.atom(*flags)?,
            };
            let atom = self.repetition(atom)?;
            items.push(atom);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Ast::Empty)
        } else {
            Ast::Concat(items)
        })
    }

    /// A group, or `None` for a flag setting `(?i)` (which changes `flags`).
    fn group(&mut self, flags: &mut Flags) -> Result<Option<Ast>, RegexError> {
        self.pos += 1; // (
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err("groups are nested too deeply"));
        }
        let mut inner = *flags;
        if self.eat('?') {
            match self.peek() {
                Some(':') => self.pos += 1,
                Some('P') if self.chars.get(self.pos + 1) == Some(&'<') => {
                    self.pos += 2;
                    self.group_name()?;
                }
                Some('<') if !matches!(self.chars.get(self.pos + 1), Some('=' | '!')) => {
                    self.pos += 1;
                    self.group_name()?;
                }
                Some('=' | '!' | '<') => {
                    return Err(self.err("lookaround is not supported"));
                }
                _ => {
                    let mut on = true;
                    loop {
                        match self.peek() {
                            Some('i') => inner.icase = on,
                            Some('m') => inner.multiline = on,
                            Some('s') => inner.dotall = on,
                            Some('-') if on => on = false,
                            Some(')') => {
                                self.pos += 1;
                                self.depth -= 1;
                                *flags = inner;
                                return Ok(None);
                            }
                            Some(':') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err("unknown group flag")),
                        }
                        self.pos += 1;
                    }
                }
            }
        }
        let ast = self.alternation(inner)?;
        if !self.eat(')') {
            return Err(self.err("unclosed group"));
        }
        self.depth -= 1;
        Ok(Some(ast))
    }

    fn group_name(&mut self) -> Result<(), RegexError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        if self.pos == start || !self.eat('>') {
            return Err(self.err("bad group name"));
        }
        Ok(())
    }

    fn atom(&mut self, flags: Flags) -> Result<Ast, RegexError> {
        let Some(c) = self.peek() else {
            return Ok(Ast::Empty);
        };
        self.pos += 1;
        Ok(match c {
            '.' => Ast::Any(flags.dotall),
            '^' => Ast::Start(flags.multiline),
            '$' => Ast::End(flags.multiline),
            '[' => Ast::Class(self.class(flags)?),
            '\\' => self.escape(flags)?,
            '*' | '+' | '?' => return Err(self.err("nothing to repeat")),
            '{' if self.count_at(self.pos) => return Err(self.err("nothing to repeat")),
            c => Ast::Char(c, flags.icase),
        })
    }

    fn escape(&mut self, flags: Flags) -> Result<Ast, RegexError> {
        let class = |item| {
            Ast::Class(Class {
                items: vec![item],
                negated: false,
                icase: false,
            })
        };
        let Some(c) = self.peek() else {
            return Err(self.err("a pattern cannot end with `\\`"));
        };
        Ok(match c {
            'b' => {
                self.pos += 1;
                Ast::Boundary(true)
            }
            'B' => {
                self.pos += 1;
                Ast::Boundary(false)
            }
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                self.pos += 1;
                class(shorthand(c).ok_or_else(|| self.err("unknown escape"))?)
            }
            _ => Ast::Char(self.escaped_char()?, flags.icase),
        })
    }

    /// The character an escape (after its `\`) stands for.
    fn escaped_char(&mut self) -> Result<char, RegexError> {
        let Some(c) = self.peek() else {
            return Err(self.err("a pattern cannot end with `\\`"));
        };
        self.pos += 1;
        Ok(match c {
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\x0c',
            'v' => '\x0b',
            '0' if !self.peek().is_some_and(|d| d.is_ascii_digit()) => '\0',
            'x' => self.hex(2)?,
            'u' if self.eat('{') => self.hex(0)?,
            'u' => self.hex(4)?,
            c if c.is_ascii_punctuation() => c,
            c if c.is_ascii_digit() => return Err(self.err("backreferences are not supported")),
            _ => return Err(self.err("unknown escape")),
        })
    }

    /// `n` hex digits, or with `n` = 0 one to six up to a `}` (`\u{…}`).
    fn hex(&mut self, n: usize) -> Result<char, RegexError> {
        let mut v = 0u32;
        let start = self.pos;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(16)) {
            if n > 0 && self.pos - start == n {
                break;
            }
            v = v.saturating_mul(16).saturating_add(d);
            self.pos += 1;
        }
        let len = self.pos - start;
        let ok = if n == 0 {
            (1..=6).contains(&len) && self.eat('}')
        } else {
            len == n
        };
        if !ok {
            return Err(self.err("bad hex escape"));
        }
        char::from_u32(v).ok_or_else(|| self.err("not a character"))
    }

    fn class(&mut self, flags: Flags) -> Result<Class, RegexError> {
        let negated = self.eat('^');
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unclosed character class"));
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let lo = match c {
                '\\' => match self.peek() {
                    Some(s @ ('d' | 'D' | 'w' | 'W' | 's' | 'S')) => {
                        self.pos += 1;
                        items.push(shorthand(s).ok_or_else(|| self.err("unknown escape"))?);
                        continue;
                    }
                    Some('b') => {
                        self.pos += 1;
                        '\x08'
                    }
                    _ => self.escaped_char()?,
                },
                '[' if self.peek() == Some(':') => {
                    return Err(self.err("POSIX classes are not supported"));
                }
                c => c,
            };
            let is_range = self.peek() == Some('-') && self.chars.get(self.pos + 1) != Some(&']');
            if is_range && self.chars.get(self.pos + 1).is_some() {
                self.pos += 1;
                let hi = match self.peek() {
                    Some('\\') => {
                        self.pos += 1;
                        self.escaped_char()?
                    }
                    Some(h) => {
                        self.pos += 1;
                        h
                    }
                    None => return Err(self.err("unclosed character class")),
                };
                if hi < lo {
                    return Err(self.err("a range goes backwards"));
                }
                items.push(ClassItem::Range(lo, hi));
            } else {
                items.push(ClassItem::Range(lo, lo));
            }
        }
        Ok(Class {
            items,
            negated,
            icase: flags.icase,
        })
    }

    /// Whether `{n}`, `{n,}` or `{n,m}` starts at `from` (the character after the `{`).
    fn count_at(&self, from: usize) -> bool {
        let rest = self.chars.get(from..).unwrap_or(&[]);
        let mut digits = 0;
        for (i, c) in rest.iter().enumerate() {
            match c {
                '0'..='9' => digits += 1,
                ',' if digits > 0 => {}
                '}' => return digits > 0 && i > 0,
                _ => return false,
            }
        }
        false
    }

    fn number(&mut self) -> Result<u32, RegexError> {
        let start = self.pos;
        let mut v: u32 = 0;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            v = v.saturating_mul(10).saturating_add(d);
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("bad repetition count"));
        }
        if v > MAX_REPEAT {
            return Err(self.err("a repetition count is larger than 1000"));
        }
        Ok(v)
    }

    fn repetition(&mut self, atom: Ast) -> Result<Ast, RegexError> {
        let (min, max) = match self.peek() {
            Some('{') if self.count_at(self.pos + 1) => self.count()?,
            Some(op @ ('*' | '+' | '?')) => {
                self.pos += 1;
                (u32::from(op == '+'), (op == '?').then_some(1))
            }
            _ => return Ok(atom),
        };
        self.eat('?'); // lazy: the same yes/no answer
        if matches!(
            atom,
            Ast::Empty | Ast::Start(_) | Ast::End(_) | Ast::Boundary(_)
        ) {
            return Err(self.err("nothing to repeat"));
        }
        if matches!(self.peek(), Some('*' | '+' | '?'))
            || (self.peek() == Some('{') && self.count_at(self.pos + 1))
        {
            return Err(self.err("a repetition cannot be repeated: add a group"));
        }
        Ok(Ast::Repeat(Box::new(atom), min, max))
    }

    /// `{n}`, `{n,}` or `{n,m}`, read through its `}`.
    fn count(&mut self) -> Result<(u32, Option<u32>), RegexError> {
        self.pos += 1; // {
        let min = self.number()?;
        let max = if self.eat(',') {
            if self.peek() == Some('}') {
                None
            } else {
                Some(self.number()?)
            }
        } else {
            Some(min)
        };
        if !self.eat('}') {
            return Err(self.err("bad repetition"));
        }
        if max.is_some_and(|m| m < min) {
            return Err(self.err("a repetition's maximum is below its minimum"));
        }
        Ok((min, max))
    }
}

fn shorthand(c: char) -> Option<ClassItem> {
    Some(match c {
        'd' => ClassItem::Digit(true),
        'D' => ClassItem::Digit(false),
        'w' => ClassItem::Word(true),
        'W' => ClassItem::Word(false),
        's' => ClassItem::Space(true),
        'S' => ClassItem::Space(false),
        _ => return None,
    })
}

fn too_large() -> RegexError {
    RegexError {
        at: 0,
        why: "the pattern is too large (repetition counts multiply its size)",
    }
}

fn compile(ast: &Ast, prog: &mut Vec<Inst>) -> Result<(), RegexError> {
    if prog.len() > MAX_PROGRAM {
        return Err(too_large());
    }
    match ast {
        Ast::Empty => {}
        Ast::Char(c, icase) => prog.push(if *icase {
            Inst::Fold(fold(*c))
        } else {
            Inst::Char(*c)
        }),
        Ast::Class(class) => prog.push(Inst::Class(class.clone())),
        Ast::Any(dotall) => prog.push(Inst::Any(*dotall)),
        Ast::Start(m) => prog.push(Inst::Start(*m)),
        Ast::End(m) => prog.push(Inst::End(*m)),
        Ast::Boundary(b) => prog.push(Inst::Boundary(*b)),
        Ast::Concat(items) => {
            for a in items {
                compile(a, prog)?;
            }
        }
        Ast::Alt(branches) => {
            // split L1, next; L1: a; jmp end; next: split L2, …
            let mut jumps = Vec::new();
            for (i, b) in branches.iter().enumerate() {
                if i + 1 < branches.len() {
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    compile(b, prog)?;
                    jumps.push(prog.len());
                    prog.push(Inst::Jmp(0));
                    let next = prog.len();
                    if let Some(Inst::Split(_, to)) = prog.get_mut(split) {
                        *to = next;
                    }
                } else {
                    compile(b, prog)?;
                }
            }
            let end = prog.len();
            for j in jumps {
                if let Some(Inst::Jmp(to)) = prog.get_mut(j) {
                    *to = end;
                }
            }
        }
        Ast::Repeat(a, min, max) => {
            for _ in 0..*min {
                compile(a, prog)?;
                if prog.len() > MAX_PROGRAM {
                    return Err(too_large());
                }
            }
            match max {
                None => {
                    // L: split body, end; body; jmp L
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    compile(a, prog)?;
                    prog.push(Inst::Jmp(split));
                    let end = prog.len();
                    if let Some(Inst::Split(_, to)) = prog.get_mut(split) {
                        *to = end;
                    }
                }
                Some(max) => {
                    // Each optional copy: split body, end.
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(prog.len());
                        prog.push(Inst::Split(prog.len() + 1, 0));
                        compile(a, prog)?;
                        if prog.len() > MAX_PROGRAM {
                            return Err(too_large());
                        }
                    }
                    let end = prog.len();
                    for s in splits {
                        if let Some(Inst::Split(_, to)) = prog.get_mut(s) {
                            *to = end;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Regex::new(p)
            .unwrap_or_else(|e| panic!("{p}: {e:?}"))
            .is_match(t)
    }

    #[test]
    fn literals_classes_and_anchors() {
        assert!(m("urgent", "this is URGENT and urgent"));
        assert!(!m("urgent", "URGENT"));
        assert!(m("(?i)urgent", "URGENT!"));
        assert!(m("(?i)ação", "AÇÃO"));
        assert!(m("^a.c$", "abc"));
        assert!(!m("^a.c$", "a\nc"));
        assert!(m("(?s)^a.c$", "a\nc"));
        assert!(m("(?m)^b$", "a\nb\nc"));
        assert!(!m("^b$", "a\nb\nc"));
        assert!(m("[a-c]+x", "zzbbx"));
        assert!(!m("[^a-c]x", "ax"));
        assert!(m(r"\d{3}-\d{4}", "call 555-1234"));
        assert!(!m(r"\d{3}-\d{4}", "call 55-1234"));
        assert!(m(r"\bcat\b", "a cat sat"));
        assert!(!m(r"\bcat\b", "concatenate"));
        assert!(m(r"\Bcat\B", "concatenate"));
        assert!(m("colou?r", "color"));
        assert!(m("colou?r", "colour"));
        assert!(m("a{2,3}", "caaat"));
        assert!(!m("^a{2,3}$", "aaaa"));
        assert!(m("^(ab|cd)+$", "abcdab"));
        assert!(!m("^(ab|cd)+$", "abce"));
        assert!(m("^$", ""));
        assert!(m("", "anything"));
        assert!(m(r"\u{1F499}", "blue 💙"));
        assert!(m(r"[\w.]+@example\.com", "mail ana.b@example.com now"));
        assert!(m("(?i)[a-z]", "Q"));
        assert!(m("(?i:x)y", "Xy"));
        assert!(!m("(?i:x)y", "XY"));
        assert!(m("a.*?b", "axxb"));
        assert!(m("(?<word>hi) there", "oh hi there"));
        assert!(m(r"caf\u00e9 \x41\u{41}", "café AA"));
        assert!(m(r"\u{10FFFF}", "\u{10FFFF}"));
        assert!(m(r"\x411", "A1"));
        // Case by lower case: the Kelvin sign is a K, final sigma is its own letter.
        assert!(m("(?i)k", "\u{212A}"));
        assert!(m("(?i)[\u{212A}]", "k"));
        assert!(m("(?i)[σ]", "Σ"));
        assert!(!m("(?i)ς", "Σ"));
    }

    #[test]
    fn linear_time_on_the_classic_blowups() {
        let text = "a".repeat(5000);
        assert!(!m("^(a+)+$", &format!("{text}!")));
        assert!(!m("(a|aa)*b", &text));
        assert!(m("(a*)*a", &text));
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        for p in [
            "(?=x)",
            "(?!x)",
            "(?<=x)",
            r"(a)\1",
            "(",
            ")",
            "[a",
            "*a",
            "a{3,2}",
            "a{1001}",
            r"\q",
            "(?z)",
            "[[:alpha:]]",
            "a**",
            "a+?+",
            "a{2}{3}",
            r"\",
            "[z-a]",
            "(a{1000}){1000}",
            r"\u{}",
            r"\u{1234567}",
            r"\u{110000}",
            r"\u{41",
            r"\x4",
            r"\u00e",
            r"\u{D800}",
        ] {
            assert!(Regex::new(p).is_err(), "{p} should be refused");
        }
        // `{` that does not start a count is a literal, as in JavaScript and RE2.
        assert!(m("x{2}{", "xx{"));
        assert!(m("a{,2}", "a{,2}"));
    }
}
