package manifest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The icons are drawn by code rather than kept as PNG files: the shape is
// a dozen lines anyone can review and change, the package has no binary
// to keep in step with it, and every build writes the same bytes.

// Icon sizes Teams requires.
const (
	ColorSize   = 192
	OutlineSize = 32
)

// key reports whether the point (x, y) of the unit square lies on the
// symbol: a key, its bow a ring on the left, its bit two teeth on the
// right.
func key(x, y float64) bool {
	dx, dy := x-0.3, y-0.5
	r := math.Hypot(dx, dy)
	switch {
	case r <= 0.22 && r >= 0.1: // the bow
		return true
	case x >= 0.5 && x <= 0.95 && y >= 0.44 && y <= 0.56: // the shaft
		return true
	case x >= 0.72 && x <= 0.79 && y > 0.56 && y <= 0.72: // the teeth
		return true
	case x >= 0.86 && x <= 0.95 && y > 0.56 && y <= 0.68:
		return true
	}
	return false
}

// coverage is the share of pixel (px, py) of an image size pixels wide
// that the symbol covers when it fills the centre box of size×inset
// pixels, sampled on an n×n grid.
func coverage(px, py, size int, inset float64, n int) float64 {
	box := float64(size) * inset
	off := (float64(size) - box) / 2
	hits := 0
	for i := range n {
		for j := range n {
			x := (float64(px) + (float64(i)+0.5)/float64(n) - off) / box
			y := (float64(py) + (float64(j)+0.5)/float64(n) - off) / box
			if x >= 0 && x < 1 && y >= 0 && y < 1 && key(x, y) {
				hits++
			}
		}
	}
	return float64(hits) / float64(n*n)
}

// colorIcon draws the 192×192 colour icon: the symbol in white, smoothed,
// inside the centre 96×96 (Microsoft's guidance for the symbol's safe
// area) on a solid AccentColor square.
func colorIcon() *image.NRGBA {
	bg := accent()
	img := image.NewNRGBA(image.Rect(0, 0, ColorSize, ColorSize))
	for y := range ColorSize {
		for x := range ColorSize {
			c := coverage(x, y, ColorSize, 0.5, 4)
			mix := func(b uint8) uint8 { return uint8(math.Round(float64(b)*(1-c) + 255*c)) }
			img.SetNRGBA(x, y, color.NRGBA{R: mix(bg.R), G: mix(bg.G), B: mix(bg.B), A: 255})
		}
	}
	return img
}

// outlineIcon draws the 32×32 outline icon: the symbol in opaque white on
// full transparency, with no pixel in between (Teams requires white and
// transparent only).
func outlineIcon() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, OutlineSize, OutlineSize))
	for y := range OutlineSize {
		for x := range OutlineSize {
			if coverage(x, y, OutlineSize, 1, 4) >= 0.5 {
				img.SetNRGBA(x, y, color.NRGBA{R: 255, G: 255, B: 255, A: 255})
			}
		}
	}
	return img
}

// accent is AccentColor as a colour.
func accent() color.NRGBA {
	hex := func(i int) uint8 {
		v := func(c byte) uint8 {
			switch {
			case c >= 'a':
				return c - 'a' + 10
			case c >= 'A':
				return c - 'A' + 10
			}
			return c - '0'
		}
		return v(AccentColor[i])<<4 | v(AccentColor[i+1])
	}
	return color.NRGBA{R: hex(1), G: hex(3), B: hex(5), A: 255}
}

// encodePNG returns img as PNG, compressed as well as image/png can.
func encodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
