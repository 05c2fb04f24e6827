"""Password rules: a minimum length and a check against very common passwords."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10

# A short list of the most used passwords (and their obvious variants); enough to refuse the
# worst choices without shipping a large dictionary.
COMMON = {
    "password", "password1", "password123", "passw0rd", "123456", "1234567", "12345678",
    "123456789", "1234567890", "12345678910", "qwerty", "qwerty123", "qwertyuiop", "abc123",
    "111111", "000000", "iloveyou", "admin", "admin123", "administrator", "welcome",
    "welcome1", "welcome123", "letmein", "monkey", "dragon", "football", "baseball",
    "sunshine", "princess", "changeme", "changeme123", "1q2w3e4r", "1q2w3e4r5t", "zaq12wsx",
    "aa123456", "a123456789", "asdfghjkl", "987654321", "taiwan123", "newtaipei",
    "newtaipei2030", "school123", "teacher123", "principal", "p@ssw0rd", "p@ssword",
}


def password_problems(password: str) -> list:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_l("Use at least %(n)s characters.", n=MIN_LENGTH))
    if password.lower() in COMMON or len(set(password)) < 4:
        problems.append(_l("This password is too common or too simple. Choose another."))
    return problems
