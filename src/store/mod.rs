//! Module `store`: see DESIGN.md.
