"""The Go text/template subset and docker's template functions (docker-formats.md §6.1)."""

from __future__ import annotations

import pytest

from deadweight.render._dockerfuncs import FUNCS, HEADER_FUNCS
from deadweight.render.gotemplate import (
    GoStruct,
    Template,
    TemplateError,
    execute,
    parse,
    partial_execute,
)

ROW = GoStruct(
    "*formatter.historyContext",
    {
        "ID": "abc",
        "Size": "0B",
        "Empty": "",
        "CreatedBy": "a <b> & c\u2028",
        "Tags": ["x", "y"],
        "NoTags": [],
    },
)


def run(source: str, data: object = ROW) -> str:
    return execute(parse(source, FUNCS), data)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("plain text", "plain text"),
        ("{{.ID}}|{{.Size}}", "abc|0B"),
        ("{{.ID | upper}}", "ABC"),
        ("{{.ID | upper | lower}}", "abc"),
        ("{{if .Empty}}yes{{else}}no{{end}}", "no"),
        ("{{if .ID }}{{.ID}}{{else}}N/A{{end}}", "abc"),
        ("{{if .Empty}}1{{else if .ID}}2{{else}}3{{end}}", "2"),
        ("{{with .ID}}[{{.}}]{{end}}{{with .Empty}}x{{else}}none{{end}}", "[abc]none"),
        ("{{range .Tags}}<{{.}}>{{end}}", "<x><y>"),
        ("{{range $i, $t := .Tags}}{{$i}}={{$t}} {{end}}", "0=x 1=y "),
        ("{{range .NoTags}}{{else}}empty{{end}}", "empty"),
        ("{{$x := .ID}}{{$x}}-{{$x = .Size}}{{$x}}", "abc-0B"),
        ("{{$.ID}}", "abc"),
        ("a  {{- .ID -}}  b", "aabcb"),
        ("a {{- /* comment */ -}} b", "ab"),
        ("{{/* nothing */}}", ""),
        ('{{`raw\\t`}}{{"q\\tq"}}', "raw\\tq\tq"),
        ('{{print 1 2 "a" "b" 3}}', "1 2ab3"),
        ("{{println .ID 1}}", "abc 1\n"),
        ('{{printf "%s=%5d|%-4s|%q|%v" .ID 42 "ab" .ID true}}', 'abc=   42|ab  |"abc"|true'),
        ('{{printf "%d %s" 1}}', "1 %!s(MISSING)"),
        ("{{len .ID}} {{len .Tags}} {{index .Tags 1}}", "3 2 y"),
        ('{{eq .ID "abc"}} {{ne .ID "abc"}} {{eq .ID "x" "abc"}}', "true false true"),
        ('{{lt 1 2}} {{ge "b" "a"}}', "true true"),
        ("{{and .ID .Size}} {{or .Empty .Size}} {{not .Empty}}", "0B 0B true"),
        ("{{(.ID)}} {{(print .Size)}}", "abc 0B"),
        ("{{json .ID}} {{json .Tags}} {{json 1}}", '"abc" ["x","y"] 1'),
        ("{{json .CreatedBy}}", '"a <b> & c\\u2028"'),
        ('{{join .Tags ","}} {{join (split "a:b" ":") "-"}}', "x,y a-b"),
        ('{{split "a,b" ","}} {{split "ab" ""}}', "[a b] [a b]"),
        ('{{title "hello wörld-x_y"}} {{upper "straße"}}', "Hello Wörld-X_y STRAßE"),
        ("{{pad .ID 2 1}}|{{pad .Empty 2 1}}|", "  abc ||"),
        ('{{truncate .ID 2}} {{truncate .ID 10}} {{truncate "日本" 3}}', "ab abc 日"),
        ("{{.ID}}\n{{.Size}}", "abc\n0B"),
    ],
)
def test_templates(source: str, expected: str) -> None:
    assert run(source) == expected


# Go's html, js, urlquery, slice and index on strings, each output checked against
# /usr/bin/docker 20.10 (go1.19) running `docker images --format` with the same template.
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            """{{html "<a href=\\"x\\">'&'</a>\\x00"}}""",
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;\ufffd",
        ),
        ('{{html .ID 1 "x" 2 3}} {{html}}|{{html nil}}', "abc1x2 3 |&lt;no value&gt;"),
        ("{{.CreatedBy | html}}", "a &lt;b&gt; &amp; c\u2028"),
        (
            """{{js "a\\\\b'c\\"d<e>f&g=h\\x01i é 😀 \\u00a0 \\u2028\\x7f"}}""",
            "a\\\\b\\'c\\\"d\\u003Ce\\u003Ef\\u0026g\\u003Dh\\u0001i é 😀 \\u00A0 \\u2028\x7f",
        ),
        ("{{js 5}} {{js nil 1}}", "5 \\u003Cno value\\u003E1"),
        (
            '{{urlquery "a b/c?d=é&~_.-+"}} {{urlquery .ID 5}}',
            "a+b%2Fc%3Fd%3D%C3%A9%26~_.-%2B abc5",
        ),
        ("{{slice .ID 1 2}}|{{slice .ID 1}}|{{slice .ID}}|{{slice .ID 3}}", "b|bc|abc|"),
        ("{{slice .Tags 1}} {{slice .Tags 0 1 2}} {{len (slice .Tags 2)}}", "[y] [x] 0"),
        ('{{slice "日本" 1}}', "\udc97\udca5本"),
        ('{{printf "%q" (slice "日本" 1 2)}} {{js (slice "日本" 1 2)}}', '"\\x97" \udc97'),
        ('{{urlquery (slice "日本" 0 1)}}', "%E6"),
        ('{{index .ID 1}} {{printf "%c" (index "é" 0)}}', "98 Ã"),
    ],
)
def test_go_builtins_html_js_urlquery_slice(source: str, expected: str) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{slice .ID 2 1}}", "invalid slice index: 2 > 1"),
        ("{{slice .ID 1 99}}", "index out of range: 99"),
        ("{{slice .ID -1}}", "index out of range: -1"),
        ("{{slice .ID 1 2 3}}", "cannot 3-index slice a string"),
        ("{{slice .Tags 0 2 1}}", "invalid slice index: 2 > 1"),
        ("{{slice .Tags 0 1 2 3}}", "too many slice indexes: 4"),
        ("{{slice 5 1}}", "can't slice item of type int"),
        ('{{slice .ID "a"}}', "cannot index slice/array with type string"),
        ("{{slice .ID nil}}", "cannot index slice/array with nil"),
        ("{{index .ID 4}}", "index out of range: 4"),
        ("{{index .ID 3}}", "reflect: string index out of range"),  # go1.19: len passes
        ("{{index .Tags 2}}", "reflect: slice index out of range"),
        ('{{index .ID "x"}}', "cannot index slice/array with type string"),
    ],
)
def test_slice_and_index_errors_use_go1_19_wording(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        run(source)
    assert str(info.value).endswith(message)


def test_json_of_the_row_is_docker_marshal_json() -> None:
    # MarshalJSON: a map (keys sorted) through json.Marshal, which escapes HTML.
    assert run("{{json .}}") == (
        '{"CreatedBy":"a \\u003cb\\u003e \\u0026 c\\u2028","Empty":"","ID":"abc",'
        '"NoTags":[],"Size":"0B","Tags":["x","y"]}'
    )


def test_maps_missing_keys_print_no_value() -> None:
    assert run("{{.Nope}}|{{.ID}}|{{json .Nope}}|{{if .Nope}}y{{else}}n{{end}}", {"ID": "x"}) == (
        "<no value>|x|null|n"
    )
    with pytest.raises(TemplateError, match="invalid value; expected string"):
        run("{{lower .Nope}}", {"ID": "x"})


def test_header_functions_leave_titles_intact() -> None:
    tmpl = parse("{{.ID | lower}}\t{{json .ID}}\t{{truncate .ID 1}}\t{{pad .ID 1 1}}", FUNCS)
    header = Template(tmpl.source, tmpl.root, {**tmpl.funcs, **HEADER_FUNCS})
    assert execute(header, {"ID": "IMAGE"}) == "IMAGE\tIMAGE\tIMAGE\t IMAGE "


def test_partial_execution_keeps_output_before_an_error() -> None:
    tmpl = parse("A{{.ID}}B{{json .}}C", HEADER_FUNCS)
    assert partial_execute(tmpl, {"ID": "x"}) == "AxB"
    with pytest.raises(TemplateError):
        execute(tmpl, {"ID": "x"})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{.ID", "template: :1: unclosed action"),
        ("{{.ID}", "template: :1: unrecognized character in action: U+007D '}'"),
        ("{{foo}}", 'template: :1: function "foo" not defined'),
        ("{{if .ID}}x", "template: :1: unexpected EOF"),
        ("x{{end}}", "template: :1: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{}}", "template: :1: missing value for command"),
        ("{{if}}{{end}}", "template: :1: missing value for if"),
        ('{{"abc}}', "template: :1: unterminated quoted string"),
        ("{{/* x }}", "template: :1: unclosed comment"),
        ("a\n{{$y}}", 'template: :2: undefined variable "$y"'),
        ("{{.ID | 1}}", "template: :1: non executable command in pipeline stage 2"),
        ('{{define "x"}}{{end}}', "template: :1: {{define}} is not supported"),
        ("{{ | lower}}", 'template: :1: unexpected "|" in command'),
    ],
)
def test_parse_errors_use_gos_wording(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        parse(source, FUNCS)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "{{range .ID}}{{end}}",
            'template: :1:8: executing "" at <.ID>: range can\'t iterate over abc',
        ),
        (
            "{{.Foo}}",
            'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo '
            "in type *formatter.historyContext",
        ),
        (
            "x\n {{.ID.Bar}}",
            'template: :2:6: executing "" at <.ID.Bar>: can\'t evaluate field Bar in type string',
        ),
        (
            "{{pad .ID 1}}",
            'template: :1:2: executing "" at <pad>: wrong number of args for pad: want 3 got 2',
        ),
        ("{{lower 1}}", 'template: :1:8: executing "" at <1>: expected string; found 1'),
        (
            "{{len .ID | lower}}",
            'template: :1:12: executing "" at <lower>: '
            "wrong type for value; expected string; got int",
        ),
        (
            "{{truncate .ID -1}}",
            'template: :1:2: executing "" at <truncate .ID -1>: error calling truncate: '
            "runtime error: slice bounds out of range [:-1]",
        ),
        (
            "{{.ID 1}}",
            'template: :1:2: executing "" at <.ID>: wrong number of args for ID: want 0 got 1',
        ),
        ("{{nil}}", 'template: :1:2: executing "" at <nil>: nil is not a command'),
        ("{{.}}", 'template: :1:2: executing "" at <.>: printing a whole row is not supported'),
        # the node Go's ErrorContext names, checked against docker 20.10 (go1.19): a failed
        # call at its whole command as String() writes it (never cut to 20 characters), a
        # field chain where its last part starts, columns in bytes, a range at what it
        # evaluated last
        (
            '{{index (split   .ID   "b")    5}}',
            'template: :1:2: executing "" at <index (split .ID "b") 5>: '
            "error calling index: index out of range: 5",
        ),
        (
            '{{.ID | printf "%d" | len | index .ID}}',
            'template: :1:28: executing "" at <index .ID>: error calling index: '
            "index out of range: 15",
        ),
        (
            "é{{.Size.Foooooooooooooooooooo}}",
            'template: :1:9: executing "" at <.Size.Foooooooooooooooooooo>: '
            "can't evaluate field Foooooooooooooooooooo in type string",
        ),
        (
            "{{$x := .ID}}{{$x.Foo.Bar}}",
            'template: :1:17: executing "" at <$x.Foo.Bar>: '
            "can't evaluate field Foo in type string",
        ),
        (
            "{{range $i, $e := .ID}}{{end}}",
            'template: :1:18: executing "" at <.ID>: range can\'t iterate over abc',
        ),
        (
            '{{range (len "ab")}}{{end}}',
            'template: :1:13: executing "" at <"ab">: range can\'t iterate over 2',
        ),
    ],
)
def test_execution_errors_use_gos_wording(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        run(source)
    assert str(info.value) == message
