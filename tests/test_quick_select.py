"""The fast district drop-down renders exactly what WTForms' own Select renders."""

from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField

from pairing.schools.forms import DistrictSelectField, choices

CHOICES = choices([("", "All"), ("1", 'A&B "quoted"'), ("2", "<x>"), ("3", "板橋區")])


def test_quick_select_markup_equals_wtforms():
    class Plain(Form):
        district = SelectField(choices=CHOICES)

    class Quick(Form):
        district = DistrictSelectField(choices=CHOICES)

    for data in ({}, {"district": "1"}, {"district": "3"}):
        plain, quick = Plain(MultiDict(data)), Quick(MultiDict(data))
        assert str(quick.district(class_="form-select")) == str(
            plain.district(class_="form-select"))
    html = str(Quick(MultiDict({"district": "2"})).district())
    assert '<option selected value="2">&lt;x&gt;</option>' in html
    assert "A&amp;B &#34;quoted&#34;" in html


def test_district_selects_look_like_the_other_selects(client, login_as):
    """The form macros style selects by field type; the district field is one too."""
    import re

    login_as("staff")
    for path in ("/schools/", "/dashboard/", "/pairings/", "/schools/new"):
        html = client.get(path).get_data(as_text=True)
        tags = re.findall(r'<select[^>]*name="district(?:_id)?"[^>]*>', html)
        assert tags, path
        assert all('class="form-select' in tag for tag in tags), (path, tags)
