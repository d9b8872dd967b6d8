"""The SQL layer: find SQL in Python and ``.sql`` files, parse it, map positions back.

- ``calls``: which calls take SQL text (``cursor.execute``, ``text()``, ``.raw()`` ...).
- ``extract``: the SQL text a Python string expression builds, with holes for runtime values
  and driver placeholders; ``.sql`` files.
- ``parse``: split into statements and parse with sqlglot, never raising; node positions.
- ``model``: the data rules see (``SqlSource``, ``Segment``, ``Hole``, ``SqlStatement``).
- ``lexer``, ``pystrings``: quoting/placeholder scanning and Python literal decoding.
"""
