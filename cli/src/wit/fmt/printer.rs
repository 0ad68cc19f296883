//! The formatting pass: a recursive-descent walk over WIT's grammar that re-emits every
//! token of the source, in order, with canonical spacing, line breaks and two-space
//! indentation. Comments are tokens too: each is written exactly once, either after the
//! token it trailed on the same line or on its own line before the next token, so no comment
//! can be dropped or moved across code. The only tokens it adds or removes are commas
//! before a closing bracket. Anything the walk does not understand is an error, never a guess.

use super::super::lexer::{Kind, Token};

/// What separates the next output from the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Sep {
    None,
    Space,
    Newline,
    /// A line break and one empty line.
    Blank,
}

/// The grammar walk did not understand the input at `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub offset: usize,
    pub message: String,
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

const INDENT: &str = "  ";

/// Formats one file's tokens.
pub fn format_tokens(tokens: &[Token<'_>], source_len: usize) -> Result<String> {
    let mut printer = Printer {
        tokens,
        pos: 0,
        out: String::new(),
        indent: 0,
        after_open: false,
        flushed: None,
        source_len,
    };
    printer.file()?;
    Ok(printer.out)
}

struct Printer<'t, 'a> {
    tokens: &'t [Token<'a>],
    /// Index of the next unwritten token (comment or not).
    pos: usize,
    out: String,
    indent: usize,
    /// The last thing written opened a block: no blank line may follow.
    after_open: bool,
    /// Comments before the next token were written already; this is the token's separator.
    flushed: Option<(Sep, bool)>,
    source_len: usize,
}

impl<'a> Printer<'_, 'a> {
    // ---- token access -------------------------------------------------------------------

    /// The `n`-th upcoming non-comment token.
    fn peek_nth(&self, n: usize) -> Option<Token<'a>> {
        self.tokens[self.pos..]
            .iter()
            .filter(|t| !t.is_comment())
            .nth(n)
            .copied()
    }

    fn peek(&self) -> Option<Token<'a>> {
        self.peek_nth(0)
    }

    fn peek_is(&self, text: &str) -> bool {
        self.peek().is_some_and(|t| t.is(text))
    }

    fn unsupported<T>(&self, what: &str) -> Result<T> {
        let (offset, found) = match self.peek() {
            Some(token) => (token.start, format!("`{}`", token.text)),
            None => (self.source_len, "the end of the file".to_owned()),
        };
        Err(Unsupported {
            offset,
            message: format!("expected {what}, found {found}"),
        })
    }

    /// Whether the list whose opening bracket was just written needs one element per line:
    /// it holds a line comment, or a block comment that spans lines or sits on a line of its
    /// own. Short `/* … */` comments inside a line keep the list on one line.
    fn needs_breaking(&self) -> bool {
        let mut depth = 0usize;
        let mut after_comment = false;
        for token in &self.tokens[self.pos..] {
            if after_comment && token.newlines_before > 0 {
                return true;
            }
            after_comment = false;
            if token.is_comment() {
                if token.kind == Kind::LineComment
                    || token.text.contains('\n')
                    || token.newlines_before > 0
                {
                    return true;
                }
                after_comment = true;
                continue;
            }
            if matches!(token.text, "(" | "{" | "<") && token.kind == Kind::Punct {
                depth += 1;
            } else if matches!(token.text, ")" | "}" | ">") && token.kind == Kind::Punct {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
        }
        false
    }

    // ---- writing --------------------------------------------------------------------------

    fn write(&mut self, text: &str, sep: Sep, continuation: bool) {
        if !self.out.is_empty() {
            match sep {
                Sep::None => {}
                Sep::Space => self.out.push(' '),
                Sep::Newline | Sep::Blank => {
                    if sep == Sep::Blank {
                        self.out.push('\n');
                    }
                    self.out.push('\n');
                    for _ in 0..self.indent + usize::from(continuation) {
                        self.out.push_str(INDENT);
                    }
                }
            }
        }
        self.out.push_str(text);
        self.after_open = false;
    }

    /// The separator for something that starts a line, keeping one blank line from the
    /// source where blank lines are allowed.
    fn line_sep(&self, requested: Sep, newlines: u32, allow_blank: bool) -> Sep {
        if requested == Sep::Blank || (newlines >= 2 && allow_blank && !self.after_open) {
            Sep::Blank
        } else {
            Sep::Newline
        }
    }

    /// Writes the comments before the next token; returns the token's separator and whether
    /// it continues a line that was broken only because of a comment.
    fn flush_comments(&mut self, mut requested: Sep, allow_blank: bool) -> (Sep, bool) {
        if let Some(flushed) = self.flushed.take() {
            return flushed;
        }
        let mut after: Option<Kind> = None;
        while let Some(token) = self.tokens.get(self.pos).copied().filter(Token::is_comment) {
            self.pos += 1;
            let text = if token.kind == Kind::LineComment {
                token.text.trim_end()
            } else {
                token.text
            };
            if token.newlines_before == 0
                && !self.out.is_empty()
                && after != Some(Kind::LineComment)
            {
                // A trailing comment stays on the line of what it followed (right after an
                // opening bracket, without a space: `func(/* none */)`).
                if !self.out.ends_with(['(', '<']) {
                    self.out.push(' ');
                }
                self.out.push_str(text);
                self.after_open = false;
            } else {
                let (sep, continuation) =
                    self.sep_for(requested, token.newlines_before, allow_blank, after, true);
                self.write(text, sep, continuation);
                // A forced blank line goes before the first line of the item only.
                requested = requested.min(Sep::Newline);
            }
            after = Some(token.kind);
        }
        let newlines = self.tokens.get(self.pos).map_or(1, |t| t.newlines_before);
        self.sep_for(requested, newlines, allow_blank, after, false)
    }

    /// The separator before a token or an own-line comment: what the grammar asks for, except
    /// that a line comment ends its line, and a comment that sat on its own line (or code that
    /// followed a block comment on the next line) keeps its line break. A line broken only
    /// for a comment continues one level deeper.
    fn sep_for(
        &self,
        requested: Sep,
        newlines: u32,
        allow_blank: bool,
        after: Option<Kind>,
        is_comment: bool,
    ) -> (Sep, bool) {
        if requested >= Sep::Newline {
            if after == Some(Kind::BlockComment) && newlines == 0 {
                return (Sep::Space, false);
            }
            return (self.line_sep(requested, newlines, allow_blank), false);
        }
        let must_break =
            after == Some(Kind::LineComment) || (newlines > 0 && (is_comment || after.is_some()));
        if must_break {
            return (Sep::Newline, true);
        }
        (requested, false)
    }

    /// Writes the next token after `requested` space; it must be `expected` when given.
    fn emit(&mut self, requested: Sep) -> Result<Token<'a>> {
        let Some(token) = self.peek() else {
            return self.unsupported("more input");
        };
        let (sep, continuation) = self.flush_comments(requested, true);
        self.pos += 1;
        self.write(token.text, sep, continuation);
        Ok(token)
    }

    fn expect(&mut self, text: &str, requested: Sep) -> Result<Token<'a>> {
        if !self.peek_is(text) {
            return self.unsupported(&format!("`{text}`"));
        }
        self.emit(requested)
    }

    fn expect_name(&mut self, requested: Sep) -> Result<Token<'a>> {
        match self.peek() {
            Some(t) if matches!(t.kind, Kind::Id | Kind::ExplicitId) => self.emit(requested),
            _ => self.unsupported("a name"),
        }
    }

    /// Drops a trailing comma in a list printed on one line, unless a comment comes first.
    fn skip_comma(&mut self) -> bool {
        let direct = self.tokens.get(self.pos).is_some_and(|t| t.is(","));
        if direct {
            self.pos += 1;
        }
        direct
    }

    /// Comments before a closing brace are indented with the block's contents.
    fn close_block(&mut self, close: &str) -> Result {
        self.flushed = Some(self.flush_comments(Sep::Newline, true));
        self.indent -= 1;
        let (sep, continuation) = self.flushed.take().expect("just set");
        let sep = if sep == Sep::Blank { Sep::Newline } else { sep };
        self.flushed = Some((sep, continuation));
        self.expect(close, Sep::Newline)?;
        Ok(())
    }

    fn open_block(&mut self, open: &str, requested: Sep) -> Result {
        self.expect(open, requested)?;
        self.after_open = true;
        self.indent += 1;
        Ok(())
    }

    // ---- file and top-level items ------------------------------------------------------------

    fn file(&mut self) -> Result {
        let mut previous_block = None;
        if self.peek_is("package") && !self.nested_package_ahead() {
            self.package_name_decl(Sep::Newline)?;
            self.expect(";", Sep::None)?;
            previous_block = Some(true);
        }
        self.decl_list(previous_block, None)?;
        // Comments after the last item, then exactly one final newline.
        let (_, _) = self.flush_comments(Sep::Newline, true);
        self.out.push('\n');
        Ok(())
    }

    /// Items of a package scope until `end` (or the end of the file). Blocks are set apart by
    /// one blank line; consecutive `use` lines keep the source's grouping.
    fn decl_list(&mut self, mut previous_block: Option<bool>, end: Option<&str>) -> Result {
        loop {
            match (self.peek(), end) {
                (None, None) => return Ok(()),
                (None, Some(_)) => return self.unsupported("`}`"),
                (Some(t), Some(end)) if t.is(end) => return Ok(()),
                _ => {}
            }
            let is_block = !self.item_keyword_is("use");
            let sep = match previous_block {
                None => Sep::Newline,
                Some(previous) if previous || is_block => Sep::Blank,
                Some(_) => Sep::Newline,
            };
            let sep = self.attributes(sep)?;
            match self.peek() {
                Some(t) if t.is("interface") => self.interface(sep)?,
                Some(t) if t.is("world") => self.world(sep)?,
                Some(t) if t.is("use") => self.toplevel_use(sep)?,
                Some(t) if t.is("package") => {
                    self.package_name_decl(sep)?;
                    self.open_block("{", Sep::Space)?;
                    self.decl_list(None, Some("}"))?;
                    self.close_block("}")?;
                }
                _ => return self.unsupported("`interface`, `world`, `use` or `package`"),
            }
            previous_block = Some(is_block);
        }
    }

    /// Whether `package a:b … {` (a nested package) rather than `package a:b;` follows.
    fn nested_package_ahead(&self) -> bool {
        (1..64)
            .map(|n| self.peek_nth(n))
            .find(|t| t.is_none_or(|t| t.is(";") || t.is("{")))
            .flatten()
            .is_some_and(|t| t.is("{"))
    }

    /// The keyword of the next item, after any `@attribute(…)`s.
    fn item_keyword_is(&self, keyword: &str) -> bool {
        let mut n = 0;
        while self.peek_nth(n).is_some_and(|t| t.is("@")) {
            n += 2; // `@` and the attribute name
            if self.peek_nth(n).is_some_and(|t| t.is("(")) {
                while self.peek_nth(n).is_some_and(|t| !t.is(")")) {
                    n += 1;
                }
                n += 1;
            }
        }
        self.peek_nth(n).is_some_and(|t| t.is(keyword))
    }

    /// `@since(version = 1.2.0)` and friends, one per line. Returns the separator for the
    /// item they annotate.
    fn attributes(&mut self, mut sep: Sep) -> Result<Sep> {
        while self.peek_is("@") {
            self.emit(sep)?;
            self.expect_name(Sep::None)?;
            if self.peek_is("(") {
                self.emit(Sep::None)?;
                let mut next = Sep::None;
                while !self.peek_is(")") {
                    if self.peek().is_none() {
                        return self.unsupported("`)`");
                    }
                    if self.peek_is("=") {
                        self.emit(Sep::Space)?;
                        next = Sep::Space;
                    } else {
                        self.emit(next)?;
                        next = Sep::None;
                    }
                }
                self.emit(Sep::None)?;
            }
            sep = Sep::Newline;
        }
        Ok(sep)
    }

    /// `package ns:name@1.0.0` (without what follows).
    fn package_name_decl(&mut self, sep: Sep) -> Result {
        self.expect("package", sep)?;
        self.expect_name(Sep::Space)?;
        self.expect(":", Sep::None)?;
        self.expect_name(Sep::None)?;
        self.opt_version()
    }

    /// `@1.2.3-pre.1+build`, glued; mirrors wit-parser's version grammar.
    fn opt_version(&mut self) -> Result {
        if !self.peek_is("@") {
            return Ok(());
        }
        self.emit(Sep::None)?;
        for part in ["0", ".", "0", ".", "0"] {
            let ok = if part == "." {
                self.peek_is(".")
            } else {
                self.peek().is_some_and(|t| t.kind == Kind::Integer)
            };
            if !ok {
                return self.unsupported("a version");
            }
            self.emit(Sep::None)?;
        }
        for prefix in ["-", "+"] {
            if !self.peek_is(prefix) {
                continue;
            }
            self.emit(Sep::None)?;
            loop {
                let part = |t: Option<Token<'_>>| {
                    t.is_some_and(|t| matches!(t.kind, Kind::Id | Kind::Integer) || t.is("-"))
                };
                if part(self.peek()) {
                    self.emit(Sep::None)?;
                } else if self.peek_is(".") && part(self.peek_nth(1)) {
                    self.emit(Sep::None)?;
                    self.emit(Sep::None)?;
                } else {
                    break;
                }
            }
        }
        Ok(())
    }

    /// `name` or `ns:pkg/name@1.0.0`.
    fn use_path(&mut self, sep: Sep) -> Result {
        self.expect_name(sep)?;
        if self.peek_is(":") {
            self.emit(Sep::None)?;
            self.expect_name(Sep::None)?;
            self.expect("/", Sep::None)?;
            self.expect_name(Sep::None)?;
            self.opt_version()?;
        }
        Ok(())
    }

    fn toplevel_use(&mut self, sep: Sep) -> Result {
        self.expect("use", sep)?;
        self.use_path(Sep::Space)?;
        if self.peek_is("as") {
            self.emit(Sep::Space)?;
            self.expect_name(Sep::Space)?;
        }
        self.expect(";", Sep::None)?;
        Ok(())
    }

    // ---- interfaces and worlds -------------------------------------------------------------------

    fn interface(&mut self, sep: Sep) -> Result {
        self.expect("interface", sep)?;
        self.expect_name(Sep::Space)?;
        self.items_block(Self::interface_item)
    }

    fn world(&mut self, sep: Sep) -> Result {
        self.expect("world", sep)?;
        self.expect_name(Sep::Space)?;
        self.items_block(Self::world_item)
    }

    /// `{ items }`, one item per line, or `{}` when there is nothing inside.
    fn items_block(&mut self, mut item: impl FnMut(&mut Self, Sep) -> Result) -> Result {
        if self.empty_brackets_ahead() {
            self.expect("{", Sep::Space)?;
            self.expect("}", Sep::None)?;
            return Ok(());
        }
        self.open_block("{", Sep::Space)?;
        while !self.peek_is("}") {
            if self.peek().is_none() {
                return self.unsupported("`}`");
            }
            let sep = self.attributes(Sep::Newline)?;
            item(self, sep)?;
        }
        self.close_block("}")
    }

    /// Whether the bracket just written is closed by the very next token (comments included).
    fn empty_after_open(&self, close: &str) -> bool {
        self.tokens.get(self.pos).is_some_and(|t| t.is(close))
    }

    /// Whether the next token opens a bracket that the very next token (comments included)
    /// closes: `{}`.
    fn empty_brackets_ahead(&self) -> bool {
        let Some(open) = self.tokens[self.pos..].iter().position(|t| !t.is_comment()) else {
            return false;
        };
        self.tokens
            .get(self.pos + open + 1)
            .is_some_and(|t| t.kind == Kind::Punct && matches!(t.text, "}" | ")" | ">"))
    }

    fn interface_item(&mut self, sep: Sep) -> Result {
        match self.peek() {
            Some(t) if t.is("use") => self.use_item(sep),
            Some(t) if t.starts_typedef() => self.typedef(sep),
            Some(t) if matches!(t.kind, Kind::Id | Kind::ExplicitId) => {
                self.expect_name(sep)?;
                self.expect(":", Sep::None)?;
                self.func_sig(Sep::Space)?;
                self.expect(";", Sep::None)?;
                Ok(())
            }
            _ => self.unsupported("`use`, a type or a function"),
        }
    }

    fn world_item(&mut self, sep: Sep) -> Result {
        match self.peek() {
            Some(t) if t.is("import") || t.is("export") => {
                self.emit(sep)?;
                self.extern_kind()
            }
            Some(t) if t.is("include") => self.include(sep),
            Some(t) if t.is("use") => self.use_item(sep),
            Some(t) if t.starts_typedef() => self.typedef(sep),
            _ => self.unsupported("`import`, `export`, `include`, `use` or a type"),
        }
    }

    /// What follows `import` / `export`; disambiguated the way wit-parser does.
    fn extern_kind(&mut self) -> Result {
        let named = self.peek_nth(1).is_some_and(|t| t.is(":"));
        if named {
            let after = self.peek_nth(2);
            let is_func = after.is_some_and(|t| t.is("func") || t.is("async"))
                || (after
                    .is_some_and(|t| t.kind == Kind::Id && (t.text == "get" || t.text == "set"))
                    && self.peek_nth(3).is_some_and(|t| t.is("(")));
            if is_func {
                self.expect_name(Sep::Space)?;
                self.expect(":", Sep::None)?;
                self.func_sig(Sep::Space)?;
                return self.expect(";", Sep::None).map(drop);
            }
            if after.is_some_and(|t| t.is("interface")) {
                self.expect_name(Sep::Space)?;
                self.expect(":", Sep::None)?;
                self.expect("interface", Sep::Space)?;
                return self.items_block(Self::interface_item);
            }
            let qualified = after.is_some_and(|t| matches!(t.kind, Kind::Id | Kind::ExplicitId))
                && self.peek_nth(3).is_some_and(|t| t.is("/"));
            if !qualified {
                self.expect_name(Sep::Space)?;
                self.expect(":", Sep::None)?;
                self.use_path(Sep::Space)?;
                return self.expect(";", Sep::None).map(drop);
            }
        }
        self.use_path(Sep::Space)?;
        self.expect(";", Sep::None).map(drop)
    }

    fn include(&mut self, sep: Sep) -> Result {
        self.expect("include", sep)?;
        self.use_path(Sep::Space)?;
        if self.peek_is("with") {
            self.emit(Sep::Space)?;
            self.list("{", "}", Sep::Space, true, false, |p, sep| {
                p.expect_name(sep)?;
                p.expect("as", Sep::Space)?;
                p.expect_name(Sep::Space).map(drop)
            })
        } else {
            self.expect(";", Sep::None).map(drop)
        }
    }

    fn use_item(&mut self, sep: Sep) -> Result {
        self.expect("use", sep)?;
        self.use_path(Sep::Space)?;
        self.expect(".", Sep::None)?;
        self.list("{", "}", Sep::None, false, false, |p, sep| {
            p.expect_name(sep)?;
            if p.peek_is("as") {
                p.emit(Sep::Space)?;
                p.expect_name(Sep::Space)?;
            }
            Ok(())
        })?;
        self.expect(";", Sep::None).map(drop)
    }

    // ---- types and functions ----------------------------------------------------------------

    fn typedef(&mut self, sep: Sep) -> Result {
        let keyword = self.emit(sep)?;
        self.expect_name(Sep::Space)?;
        match keyword.text {
            "type" => {
                self.expect("=", Sep::Space)?;
                self.ty(Sep::Space)?;
                self.expect(";", Sep::None).map(drop)
            }
            "record" => self.list("{", "}", Sep::Space, true, true, |p, sep| {
                p.expect_name(sep)?;
                p.expect(":", Sep::None)?;
                p.ty(Sep::Space)
            }),
            "variant" => self.list("{", "}", Sep::Space, true, true, |p, sep| {
                p.expect_name(sep)?;
                if p.peek_is("(") {
                    p.emit(Sep::None)?;
                    p.ty(Sep::None)?;
                    p.expect(")", Sep::None)?;
                }
                Ok(())
            }),
            "enum" | "flags" => self.list("{", "}", Sep::Space, true, true, |p, sep| {
                p.expect_name(sep).map(drop)
            }),
            "resource" => {
                if self.peek_is(";") {
                    return self.emit(Sep::None).map(drop);
                }
                self.items_block(|p, sep| {
                    if p.peek_is("constructor") {
                        p.emit(sep)?;
                        p.params()?;
                        if p.peek_is("->") {
                            p.emit(Sep::Space)?;
                            p.ty(Sep::Space)?;
                        }
                    } else {
                        p.expect_name(sep)?;
                        p.expect(":", Sep::None)?;
                        let mut next = Sep::Space;
                        if p.peek_is("static") {
                            p.emit(Sep::Space)?;
                            next = Sep::Space;
                        }
                        p.func_sig(next)?;
                    }
                    p.expect(";", Sep::None).map(drop)
                })
            }
            _ => self.unsupported("a type definition"),
        }
    }

    /// `[async] func(params) [-> type]`, or an accessor `get(…)` / `set(…)`.
    fn func_sig(&mut self, sep: Sep) -> Result {
        let mut sep = sep;
        if self.peek_is("async") {
            self.emit(sep)?;
            sep = Sep::Space;
        }
        match self.peek() {
            Some(t)
                if t.is("func") || (t.kind == Kind::Id && (t.text == "get" || t.text == "set")) =>
            {
                self.emit(sep)?;
            }
            _ => return self.unsupported("`func`"),
        }
        self.params()?;
        if self.peek_is("->") {
            self.emit(Sep::Space)?;
            self.ty(Sep::Space)?;
        }
        Ok(())
    }

    fn params(&mut self) -> Result {
        self.list("(", ")", Sep::None, false, false, |p, sep| {
            p.expect_name(sep)?;
            p.expect(":", Sep::None)?;
            p.ty(Sep::Space)
        })
    }

    fn ty(&mut self, sep: Sep) -> Result {
        let Some(token) = self.peek() else {
            return self.unsupported("a type");
        };
        if !matches!(token.kind, Kind::Id | Kind::ExplicitId) {
            return self.unsupported("a type");
        }
        self.emit(sep)?;
        let generic = token.kind == Kind::Id
            && matches!(
                token.text,
                "list"
                    | "map"
                    | "option"
                    | "result"
                    | "tuple"
                    | "future"
                    | "stream"
                    | "own"
                    | "borrow"
            );
        if generic && self.peek_is("<") {
            self.list("<", ">", Sep::None, false, false, |p, sep| {
                if p.peek_is("_") || p.peek().is_some_and(|t| t.kind == Kind::Integer) {
                    p.emit(sep).map(drop)
                } else {
                    p.ty(sep)
                }
            })?;
        }
        Ok(())
    }

    /// A bracketed, comma-separated list. On one line (`(a, b)`, or `{ a, b }` when
    /// `spaced`) unless `always_break` or a comment inside needs line breaks; then one element
    /// per line, each with a trailing comma.
    fn list(
        &mut self,
        open: &str,
        close: &str,
        open_sep: Sep,
        spaced: bool,
        always_break: bool,
        mut element: impl FnMut(&mut Self, Sep) -> Result,
    ) -> Result {
        self.expect(open, open_sep)?;
        let broken = always_break || self.needs_breaking();
        if self.empty_after_open(close) {
            self.expect(close, Sep::None)?;
            return Ok(());
        }
        if broken {
            self.after_open = true;
            self.indent += 1;
            while !self.peek_is(close) {
                if self.peek().is_none() {
                    return self.unsupported(&format!("`{close}`"));
                }
                element(self, Sep::Newline)?;
                if self.peek_is(",") {
                    self.emit(Sep::None)?;
                } else {
                    if !self.peek_is(close) {
                        return self.unsupported(&format!("`,` or `{close}`"));
                    }
                    // The last element gets a trailing comma, written before any comment
                    // that follows it, except in `<…>`: `result<a, b,>` is not WIT.
                    if close != ">" {
                        self.out.push(',');
                    }
                }
            }
            return self.close_block(close);
        }
        let inner = if spaced { Sep::Space } else { Sep::None };
        if self.peek_is(close) {
            // Only a short comment inside: `( /* nothing */ )`.
            return self.expect(close, inner).map(drop);
        }
        let mut sep = inner;
        loop {
            element(self, sep)?;
            if !self.peek_is(",") {
                break;
            }
            if self.peek_nth(1).is_some_and(|t| t.is(close)) {
                if !self.skip_comma() {
                    self.emit(Sep::None)?;
                }
                break;
            }
            self.emit(Sep::None)?;
            sep = Sep::Space;
        }
        self.expect(close, inner).map(drop)
    }
}
