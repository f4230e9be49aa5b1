//! Module `client`: see DESIGN.md.
