#if canImport(Glibc)
import Glibc
#endif

/// Fork-join over a few POSIX threads for the sparse model's training (SANSA.swift: the inverse
/// factor's columns and the rows of B are independent of each other).
///
/// Safe inside a PostgreSQL backend under these rules, which the callers keep: the work given to
/// the threads makes no PostgreSQL call (no palloc, no error raising, no interrupt check: the
/// caller checks for cancel on its own thread between blocks), writes only to disjoint parts of
/// buffers sized beforehand, and cannot trap (indices come from the caller's own arrays). Every
/// signal is blocked in the new threads (they inherit the mask set while they are created), so
/// PostgreSQL's handlers (cancel, terminate, latch) always run on the backend's own thread.
/// If a thread cannot be created, its share runs on the calling thread.
public enum ParallelBlocks {
    /// Threads the sparse training uses (the machine's cores, at most 8; tests set 1 or 2).
    public static var threads: Int = {
        let c = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, min(8, c))
    }()

    private final class Job {
        let body: (Int) -> Void
        let index: Int
        init(_ body: @escaping (Int) -> Void, _ index: Int) { self.body = body; self.index = index }
    }

    /// Runs body(0) ... body(count - 1) at the same time, body(0) on the calling thread, and
    /// returns when all have returned.
    public static func run(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1 else { body(0); return }
        withoutActuallyEscaping(body) { f in
            var ids: [pthread_t] = []
            ids.reserveCapacity(count - 1)
            var inline: [Int] = []
            var all = sigset_t(), old = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, &old)
            for t in 1..<count {
                let job = Unmanaged.passRetained(Job(f, t)).toOpaque()
                var id = pthread_t()
                let rc = pthread_create(&id, nil, { p in
                    guard let p = p else { return nil }
                    let job = Unmanaged<Job>.fromOpaque(p).takeRetainedValue()
                    job.body(job.index)
                    return nil
                }, job)
                if rc == 0 { ids.append(id) } else { Unmanaged<Job>.fromOpaque(job).release(); inline.append(t) }
            }
            pthread_sigmask(SIG_SETMASK, &old, nil)
            f(0)
            for t in inline { f(t) }
            for id in ids { pthread_join(id, nil) }
        }
    }
}
