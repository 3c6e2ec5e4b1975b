// Package udiff finds the lines that differ between two texts and gives them as the hunks of a
// unified diff, as GNU diff -u prints them.
//
// The line matching is GNU diffutils' (diffseq.h): Myers' O(ND) search from both ends for the
// middle snake, recursively, which needs two arrays of N+M+3 ints and no more, and, past a cost
// of max(4096, about sqrt(N+M)) edits, takes the furthest-reaching diagonal instead of the
// minimal one, so time stays near O((N+M)·4096) on texts that share little. Each run of
// changes is then slid as GNU's shift_boundaries does, so that ambiguous hunks come out the
// same as diff -u's.
package udiff

import (
	"fmt"
	"strings"
)

// A Hunk is one @@ block of a unified diff.
type Hunk struct {
	OldStart, OldLines int // as in the header: the first line (the one before, when empty) and the count
	NewStart, NewLines int
	// Lines are the hunk's lines, each starting with ' ', '-' or '+', without their line feed;
	// a line that had none at the end of its text is followed by "\ No newline at end of file".
	Lines []string
}

// Header is the hunk's "@@ -l,s +l,s @@" line, with a count of 1 left out as diff -u does.
func (h Hunk) Header() string {
	return fmt.Sprintf("@@ -%s +%s @@", rangeOf(h.OldStart, h.OldLines), rangeOf(h.NewStart, h.NewLines))
}

func rangeOf(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// Body is the hunk's lines, each ended by a line feed.
func (h Hunk) Body() string {
	var b strings.Builder
	for _, l := range h.Lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// Counts returns how many lines the hunk adds and removes.
func (h Hunk) Counts() (added, removed int) {
	for _, l := range h.Lines {
		switch l[0] {
		case '+':
			added++
		case '-':
			removed++
		}
	}
	return added, removed
}

const noNewline = `\ No newline at end of file`

// split cuts text into lines that keep their line feed, so that a last line without one
// differs from the same text with one, as in diff.
func split(text []byte) []string {
	var out []string
	s := string(text)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// Diff returns the hunks that turn a into b, with context lines of context around each
// change; hunks whose context would touch or overlap are one hunk, as in diff -u.
func Diff(a, b []byte, context int) []Hunk {
	x, y := split(a), split(b)
	ids := map[string]int{} // lookups only: nothing ranges over it
	num := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	xs, ys := num(x), num(y)
	// changed[i+1] is line i; the padding at both ends stops the slides.
	cx, cy := make([]bool, len(xs)+2), make([]bool, len(ys)+2)
	c := newContext(xs, ys, cx, cy)
	c.compare(0, len(xs), 0, len(ys), false)
	shift(cx, cy, xs)
	shift(cy, cx, ys)
	return hunks(x, y, cx, cy, context)
}

// context is one comparison: the lines as numbers, the changed marks, and the two arrays of
// furthest-reaching x per diagonal (forward and backward), indexed by diagonal + offset.
type context struct {
	x, y         []int
	cx, cy       []bool
	fd, bd       []int
	off          int
	tooExpensive int
}

func newContext(x, y []int, cx, cy []bool) *context {
	diags := len(x) + len(y) + 3
	te := 1
	for d := diags; d != 0; d >>= 2 {
		te <<= 1
	}
	return &context{x: x, y: y, cx: cx, cy: cy, fd: make([]int, diags), bd: make([]int, diags),
		off: len(y) + 1, tooExpensive: max(4096, te)}
}

// compare marks the changed lines of x[xoff:xlim] against y[yoff:ylim] (GNU's compareseq).
func (c *context) compare(xoff, xlim, yoff, ylim int, minimal bool) {
	for xoff < xlim && yoff < ylim && c.x[xoff] == c.y[yoff] {
		xoff++
		yoff++
	}
	for xoff < xlim && yoff < ylim && c.x[xlim-1] == c.y[ylim-1] {
		xlim--
		ylim--
	}
	switch {
	case xoff == xlim:
		for ; yoff < ylim; yoff++ {
			c.cy[yoff+1] = true
		}
	case yoff == ylim:
		for ; xoff < xlim; xoff++ {
			c.cx[xoff+1] = true
		}
	default:
		xmid, ymid, loMin, hiMin := c.diag(xoff, xlim, yoff, ylim, minimal)
		c.compare(xoff, xmid, yoff, ymid, loMin)
		c.compare(xmid, xlim, ymid, ylim, hiMin)
	}
}

// diag finds the point where a shortest edit script of the two ranges crosses its middle
// (GNU's diag, without the optional speed heuristic).
func (c *context) diag(xoff, xlim, yoff, ylim int, minimal bool) (xmid, ymid int, loMin, hiMin bool) {
	fd, bd, o := c.fd, c.bd, c.off
	dmin, dmax := xoff-ylim, xlim-yoff
	fmid, bmid := xoff-yoff, xlim-ylim
	fmin, fmax, bmin, bmax := fmid, fmid, bmid, bmid
	odd := (fmid-bmid)&1 != 0
	const far = int(^uint(0) >> 1)
	fd[o+fmid] = xoff
	bd[o+bmid] = xlim
	for cost := 1; ; cost++ {
		if fmin > dmin {
			fmin--
			fd[o+fmin-1] = -1
		} else {
			fmin++
		}
		if fmax < dmax {
			fmax++
			fd[o+fmax+1] = -1
		} else {
			fmax--
		}
		for d := fmax; d >= fmin; d -= 2 {
			tlo, thi := fd[o+d-1], fd[o+d+1]
			x0 := tlo + 1
			if tlo < thi {
				x0 = thi
			}
			x, y := x0, x0-d
			for x < xlim && y < ylim && c.x[x] == c.y[y] {
				x++
				y++
			}
			fd[o+d] = x
			if odd && bmin <= d && d <= bmax && bd[o+d] <= x {
				return x, y, true, true
			}
		}
		if bmin > dmin {
			bmin--
			bd[o+bmin-1] = far
		} else {
			bmin++
		}
		if bmax < dmax {
			bmax++
			bd[o+bmax+1] = far
		} else {
			bmax--
		}
		for d := bmax; d >= bmin; d -= 2 {
			tlo, thi := bd[o+d-1], bd[o+d+1]
			x0 := thi - 1
			if tlo < thi {
				x0 = tlo
			}
			x, y := x0, x0-d
			for xoff < x && yoff < y && c.x[x-1] == c.y[y-1] {
				x--
				y--
			}
			bd[o+d] = x
			if !odd && fmin <= d && d <= fmax && x <= fd[o+d] {
				return x, y, true, true
			}
		}
		if minimal || cost < c.tooExpensive {
			continue
		}
		// Too expensive: cut at the diagonal that got furthest, forward or backward.
		fxybest, fxbest := -1, 0
		for d := fmax; d >= fmin; d -= 2 {
			x := min(fd[o+d], xlim)
			y := x - d
			if ylim < y {
				x, y = ylim+d, ylim
			}
			if fxybest < x+y {
				fxybest, fxbest = x+y, x
			}
		}
		bxybest, bxbest := far, 0
		for d := bmax; d >= bmin; d -= 2 {
			x := max(xoff, bd[o+d])
			y := x - d
			if y < yoff {
				x, y = yoff+d, yoff
			}
			if x+y < bxybest {
				bxybest, bxbest = x+y, x
			}
		}
		if (xlim+ylim)-bxybest < fxybest-(xoff+yoff) {
			return fxbest, fxybest - fxbest, true, false
		}
		return bxbest, bxybest - bxbest, false, true
	}
}

// shift slides each run of changed lines of one text (changed, padded by one at each end)
// as GNU's shift_boundaries does: back while the line before it equals its last line, merging
// with earlier runs, then forward while its first line equals the line after it, and finally
// back to where it lines up with a run of changes in the other text, if it passed one.
func shift(changed, other []bool, eq []int) {
	n := len(eq)
	ch := func(i int) bool { return changed[i+1] }
	set := func(i int, v bool) { changed[i+1] = v }
	oc := func(j int) bool { return other[j+1] }
	i, j := 0, 0
	for {
		for i < n && !ch(i) {
			for oc(j) {
				j++
			}
			j++
			i++
		}
		if i == n {
			return
		}
		start := i
		for i++; ch(i); i++ {
		}
		for oc(j) {
			j++
		}
		var corresponding int
		for {
			runlength := i - start
			for start > 0 && eq[start-1] == eq[i-1] {
				start--
				set(start, true)
				i--
				set(i, false)
				for ch(start - 1) {
					start--
				}
				for j--; oc(j); j-- {
				}
			}
			corresponding = n
			if oc(j - 1) {
				corresponding = i
			}
			for i != n && eq[start] == eq[i] {
				set(start, false)
				start++
				set(i, true)
				i++
				for ch(i) {
					i++
				}
				for j++; oc(j); j++ {
					corresponding = i
				}
			}
			if runlength == i-start {
				break
			}
		}
		for corresponding < i {
			start--
			set(start, true)
			i--
			set(i, false)
			for j--; oc(j); j-- {
			}
		}
	}
}

// hunks groups the changes into hunks with their context.
func hunks(x, y []string, cx, cy []bool, context int) []Hunk {
	type change struct{ x0, x1, y0, y1 int } // deleted x[x0:x1], inserted y[y0:y1]
	var changes []change
	for i, j := 0, 0; i < len(x) || j < len(y); {
		if (i >= len(x) || !cx[i+1]) && (j >= len(y) || !cy[j+1]) {
			i++
			j++
			continue
		}
		ch := change{x0: i, y0: j}
		for i < len(x) && cx[i+1] {
			i++
		}
		for j < len(y) && cy[j+1] {
			j++
		}
		ch.x1, ch.y1 = i, j
		changes = append(changes, ch)
	}
	var out []Hunk
	for k := 0; k < len(changes); {
		first := changes[k]
		last := first
		for k++; k < len(changes) && changes[k].x0-last.x1 <= 2*context; k++ {
			last = changes[k]
		}
		x0 := max(0, first.x0-context)
		y0 := first.y0 - (first.x0 - x0)
		x1 := min(len(x), last.x1+context)
		y1 := last.y1 + (x1 - last.x1)
		h := Hunk{OldStart: x0 + 1, OldLines: x1 - x0, NewStart: y0 + 1, NewLines: y1 - y0}
		if h.OldLines == 0 {
			h.OldStart = x0
		}
		if h.NewLines == 0 {
			h.NewStart = y0
		}
		add := func(prefix byte, line string) {
			text, ok := strings.CutSuffix(line, "\n")
			h.Lines = append(h.Lines, string(prefix)+text)
			if !ok {
				h.Lines = append(h.Lines, noNewline)
			}
		}
		i, j := x0, y0
		for i < x1 || j < y1 {
			switch {
			case i < x1 && cx[i+1]:
				for ; i < x1 && cx[i+1]; i++ {
					add('-', x[i])
				}
				for ; j < y1 && cy[j+1]; j++ {
					add('+', y[j])
				}
			case j < y1 && cy[j+1]:
				for ; j < y1 && cy[j+1]; j++ {
					add('+', y[j])
				}
			default:
				add(' ', x[i])
				i++
				j++
			}
		}
		out = append(out, h)
	}
	return out
}
