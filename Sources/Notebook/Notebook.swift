/// Notebook owns the cell language: parser, session state, one file per command family,
/// and the MIME output bundles. It is the only target that knows both graphs and Jupyter.
