package mysqlcdc

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// The binary log carries text columns as bytes in the column's character
// set; snapshot reads ask the server for utf8mb4. A charsetDecoder turns
// binlog bytes into the same UTF-8 string.
type charsetDecoder func(b []byte) (string, error)

// decoderFor returns the decoder of a MySQL character set name, or an
// error naming the character sets that are supported.
func decoderFor(charset string) (charsetDecoder, error) {
	switch charset {
	case "utf8mb4", "utf8mb3", "utf8":
		return decodeUTF8, nil
	case "ascii":
		return decodeUTF8, nil
	case "latin1":
		return decodeLatin1, nil
	case "ucs2", "utf16":
		return decodeUTF16(false), nil
	case "utf16le":
		return decodeUTF16(true), nil
	case "utf32":
		return decodeUTF32, nil
	}
	if enc, ok := xtextCharsets[charset]; ok {
		return func(b []byte) (string, error) {
			out, err := enc.NewDecoder().Bytes(b)
			if err != nil {
				return "", fmt.Errorf("decode %s text: %w", charset, err)
			}
			return string(out), nil
		}, nil
	}
	return nil, fmt.Errorf("character set %q is not supported (supported: utf8mb4, utf8mb3, ascii, latin1, ucs2, utf16, utf16le, utf32, %s)", charset, xtextNames)
}

// MySQL's single- and multi-byte character sets that golang.org/x/text
// implements. MySQL's latin1 is really cp1252 and is handled above.
var xtextCharsets = map[string]encoding.Encoding{
	"latin2":   charmap.ISO8859_2,
	"latin5":   charmap.ISO8859_9,
	"latin7":   charmap.ISO8859_13,
	"greek":    charmap.ISO8859_7,
	"hebrew":   charmap.ISO8859_8,
	"cp1250":   charmap.Windows1250,
	"cp1251":   charmap.Windows1251,
	"cp1256":   charmap.Windows1256,
	"cp1257":   charmap.Windows1257,
	"cp850":    charmap.CodePage850,
	"cp852":    charmap.CodePage852,
	"cp866":    charmap.CodePage866,
	"koi8r":    charmap.KOI8R,
	"koi8u":    charmap.KOI8U,
	"macroman": charmap.Macintosh,
	"gbk":      simplifiedchinese.GBK,
	"gb2312":   simplifiedchinese.HZGB2312,
	"gb18030":  simplifiedchinese.GB18030,
	"big5":     traditionalchinese.Big5,
	"sjis":     japanese.ShiftJIS,
	"cp932":    japanese.ShiftJIS,
	"ujis":     japanese.EUCJP,
	"eucjpms":  japanese.EUCJP,
	"euckr":    korean.EUCKR,
}

const xtextNames = "latin2, latin5, latin7, greek, hebrew, cp1250, cp1251, cp1256, cp1257, cp850, cp852, cp866, koi8r, koi8u, macroman, gbk, gb2312, gb18030, big5, sjis, cp932, ujis, eucjpms, euckr"

func decodeUTF8(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", fmt.Errorf("text is not valid UTF-8: % x", clipBytes(b))
	}
	return string(b), nil
}

// cp1252High maps 0x80..0x9F of MySQL's latin1 (Windows-1252, with the five
// undefined bytes kept as C1 controls, as MySQL does).
var cp1252High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func decodeLatin1(b []byte) (string, error) {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b), nil
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xA0:
			out = utf8.AppendRune(out, cp1252High[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return string(out), nil
}

func decodeUTF16(little bool) charsetDecoder {
	return func(b []byte) (string, error) {
		if len(b)%2 != 0 {
			return "", fmt.Errorf("UTF-16 text has an odd length %d", len(b))
		}
		units := make([]uint16, len(b)/2)
		for i := range units {
			if little {
				units[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
			} else {
				units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			}
		}
		return string(utf16.Decode(units)), nil
	}
}

func decodeUTF32(b []byte) (string, error) {
	if len(b)%4 != 0 {
		return "", fmt.Errorf("UTF-32 text has a length %d that is not a multiple of 4", len(b))
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i += 4 {
		r := rune(b[i])<<24 | rune(b[i+1])<<16 | rune(b[i+2])<<8 | rune(b[i+3])
		if !utf8.ValidRune(r) {
			return "", fmt.Errorf("UTF-32 text holds an invalid code point %#x", r)
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out), nil
}

func clipBytes(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}
