pub(crate) fn render(
    _r: &crate::diag::Renderer,
    _s: &crate::source::SourceMap,
    d: &crate::diag::Diagnostic,
) -> String {
    format!("{}: {}\n", d.severity, d.message)
}
