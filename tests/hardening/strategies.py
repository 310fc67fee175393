"""Hypothesis strategies for hostile text: NUL, bidi controls, other digit systems, huge numbers."""
from hypothesis import strategies as st

NASTY = ["", " ", "\x00", "a\x00b", "\u202e", "Bob\u202egpj.exe", "\u2066x\u2069", "\u200f",
         "Infinity", "-Infinity", "NaN", "1e-2", "1E308", "1_0", "١٢", "１２", "१२", "0x1F",
         "9" * 40, "-" + "9" * 25, str(2 ** 63), str(2 ** 64 + 1), "-1", "0", "00", "0.001",
         "1,234.50", "1.234,50", "'; DROP TABLE customer; --", "%", "_", "\\", "%_\\%",
         "=HYPERLINK(\"http://evil.example\")", "+1 217-555-0199", "@SUM(A1)", "\r\n", "\t",
         "<script>alert(1)</script>", "{{7*7}}", "a" * 5000, "😀" * 50, "\ud7ff", "\ufeff",
         "9999-12-31", "0000-00-00", "2026-02-30 to 2026-03-01", "9999-12-31 to 9999-12-31",
         # issue 20: what the second probe sent
         "\t=1+1", "a;=1+1", "a; =1+1", "a;\t=1+1", "a\t=1+1", "\uff1d1+1", "\x7f\x01\x02",
         "/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/\r/evil.example",
         "١", "١٢٣", "٢٠٢٧-01-01", "123", "9" * 20, str(2 ** 31), str(2 ** 31 - 1),
         "99999999999999999", "[" * 2000, "{\"id\": " * 200]

texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.text(alphabet="0123456789.,-+ e_\u00a0\u202f\u0660\u0661\uff11\u0967", max_size=16),
)
numbers = st.one_of(st.integers(min_value=-(2 ** 70), max_value=2 ** 70).map(str), texts)
