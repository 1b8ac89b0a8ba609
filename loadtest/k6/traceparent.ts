// A sampled W3C traceparent with random ids, so each trace starts at the load generator;
// one definition for k6 (k6/crypto) and Node (node:crypto), which pass their random source.

/** `random(n)` returns n random bytes. */
export function newTraceparent(random: (n: number) => ArrayLike<number>): { header: string; traceId: string; parentId: string } {
  const hex = (n: number) => {
    for (;;) {
      const bytes = random(n);
      let s = '';
      for (let i = 0; i < bytes.length; i++) s += ((bytes[i] as number) < 16 ? '0' : '') + (bytes[i] as number).toString(16);
      // All-zero ids are invalid.
      if (!/^0+$/.test(s)) return s;
    }
  };
  const traceId = hex(16);
  const parentId = hex(8);
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}
