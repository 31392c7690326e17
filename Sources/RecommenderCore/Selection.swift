/// Partial selection for the sparse model's training: the k best of a buffer without sorting it
/// (Hoare's FIND, "Algorithm 65", CACM 1961, with a median-of-three pivot and, as Musser's
/// introselect, a sort of what is left when the partitioning degrades). The incomplete factor
/// keeps the 256 largest of a few thousand candidates per column this way: sorting them all was
/// 40% of its time at 100,000 items (perf); with its two lanes it went from 62 s to 22.5 s there.
enum Selection {
    /// Reorders `buf` so that its first `k` elements are its `k` best by `better` (a strict total
    /// order: for any two different elements exactly one is better), in no particular order; the
    /// rest follow, also in no particular order. The set chosen is the one a sort by `better`
    /// would put first. Average O(count).
    static func selectBest<T>(_ buf: UnsafeMutableBufferPointer<T>, _ k: Int, by better: (T, T) -> Bool) {
        let n = buf.count
        guard k > 0, k < n else { return }
        let target = k - 1           // the k-th best ends at this index, the better ones before it
        var lo = 0, hi = n - 1
        var budget = 2 * (Int.bitWidth - n.leadingZeroBitCount) + 4
        while lo < hi {
            if budget == 0 {
                var rest = UnsafeMutableBufferPointer(rebasing: buf[lo...hi])
                rest.sort(by: better)
                return
            }
            budget -= 1
            let mid = lo + (hi - lo) / 2
            if better(buf[mid], buf[lo]) { buf.swapAt(mid, lo) }
            if better(buf[hi], buf[lo]) { buf.swapAt(hi, lo) }
            if better(buf[hi], buf[mid]) { buf.swapAt(hi, mid) }
            let pivot = buf[mid]
            var i = lo, j = hi
            while i <= j {
                while better(buf[i], pivot) { i += 1 }
                while better(pivot, buf[j]) { j -= 1 }
                if i <= j { buf.swapAt(i, j); i += 1; j -= 1 }
            }
            // [lo, j]: none worse than the pivot; [i, hi]: none better; between: the pivot
            if target <= j { hi = j } else if target >= i { lo = i } else { return }
        }
    }
}
