// Line editing and history for `cxrun repl` on a terminal, from libedit (BSD editline) loaded on
// first use. Linked at build time, libedit and the three libraries it needs were loaded and
// relocated at the start of every command (a quarter of a millisecond of `cxrun run`), for a
// prompt only the REPL shows.
#ifndef CX_LINE_EDITOR_H
#define CX_LINE_EDITOR_H

/// 1 once libedit is loaded (at the first call), 0 when it cannot be: the caller reads plain lines.
int cx_edit_available(void);

/// A line read with editing after showing `prompt` (malloc'd: the caller frees it), or NULL at the
/// end of input or when libedit is not available.
char *cx_edit_readline(const char *prompt);

/// The names Tab completes at the next prompt (copied; replaces the last set).
void cx_edit_set_completions(const char *const *names, int count);

/// Adds `line` to the session's history.
void cx_edit_add_history(const char *line);

/// Loads the history kept in `path` (nothing when it does not exist).
void cx_edit_read_history(const char *path);

/// Writes the session's history to `path`.
void cx_edit_write_history(const char *path);

#endif
