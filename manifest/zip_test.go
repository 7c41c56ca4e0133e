package manifest

import (
	"archive/zip"
	"bytes"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// unzip returns the files of a package by name, in zip order.
func unzip(t *testing.T, pkg []byte) (names []string, files map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	files = map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		files[f.Name] = b
	}
	return names, files
}

// TestPackage proves the zip holds manifest.json (the golden one) and the
// two icons at its root, and that the same options give the same bytes.
func TestPackage(t *testing.T) {
	pkg, err := Package(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	names, files := unzip(t, pkg)
	if want := []string{"manifest.json", "color.png", "outline.png"}; !slices.Equal(names, want) {
		t.Fatalf("zip holds %v, want %v", names, want)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files[ManifestFile], golden) {
		t.Error("the zip's manifest.json is not the golden manifest")
	}
	again, err := Package(testOptions())
	if err != nil || !bytes.Equal(pkg, again) {
		t.Errorf("a second build differs (%v)", err)
	}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestIcons checks the icons as Teams does: a 192×192 colour icon, and a
// 32×32 outline icon of white and transparent pixels only, with both
// present.
func TestIcons(t *testing.T) {
	pkg, err := Package(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, files := unzip(t, pkg)

	color := decodePNG(t, files[ColorIcon])
	if b := color.Bounds(); b.Dx() != 192 || b.Dy() != 192 {
		t.Errorf("colour icon is %v, want 192×192", b.Size())
	}
	colours := map[[4]uint32]bool{}
	for y := range 192 {
		for x := range 192 {
			r, g, b, a := color.At(x, y).RGBA()
			colours[[4]uint32{r, g, b, a}] = true
			if a != 0xffff {
				t.Fatalf("colour icon pixel (%d,%d) is not opaque", x, y)
			}
		}
	}
	bg := accent()
	if r, g, b, _ := color.At(0, 0).RGBA(); r>>8 != uint32(bg.R) || g>>8 != uint32(bg.G) || b>>8 != uint32(bg.B) {
		t.Errorf("colour icon background is not the accent colour %s", AccentColor)
	}
	if r, g, b, _ := color.At(96, 96).RGBA(); r != 0xffff || g != 0xffff || b != 0xffff {
		// The centre is the shaft of the key.
		t.Errorf("colour icon centre is not white: the symbol is missing")
	}
	if len(colours) < 3 {
		t.Errorf("colour icon has %d colours: no symbol drawn", len(colours))
	}

	outline := decodePNG(t, files[OutlineIcon])
	if b := outline.Bounds(); b.Dx() != 32 || b.Dy() != 32 {
		t.Errorf("outline icon is %v, want 32×32", b.Size())
	}
	white, clear := 0, 0
	for y := range 32 {
		for x := range 32 {
			r, g, b, a := outline.At(x, y).RGBA()
			switch {
			case a == 0:
				clear++
			case a == 0xffff && r == 0xffff && g == 0xffff && b == 0xffff:
				white++
			default:
				t.Fatalf("outline icon pixel (%d,%d) is %v: only white and transparent are allowed", x, y, outline.At(x, y))
			}
		}
	}
	if white < 32 || clear < 32*32/2 {
		t.Errorf("outline icon: %d white and %d transparent pixels, want a symbol on transparency", white, clear)
	}
}
