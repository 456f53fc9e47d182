import { countersOf, countersFromSignature, disciplineOf, signatureOf, sumInto, zeroCounts } from '../../domain/tally';

const base = { overdue: false, acceptedLate: null, returns: 0, extension: null };

describe('what one assignment adds to the summaries', () => {
  it('counts an overdue assignment still with the addressee as overdue now, and a submitted one as waiting for review only', () => {
    expect(countersOf({ ...base, status: 'issued', overdue: true })).toEqual(['total', 'issued', 'overdue', 'overdueOpen']);
    expect(countersOf({ ...base, status: 'submitted', overdue: true })).toEqual(['total', 'submitted', 'overdue']);
  });

  it('counts a late acceptance, a past return and a pending extension request', () => {
    expect(countersOf({ ...base, status: 'accepted', acceptedLate: true, returns: 2 })).toEqual(['total', 'accepted', 'acceptedLate', 'everReturned']);
    expect(countersOf({ ...base, status: 'returned', extension: { until: '2099-01-01' } })).toContain('extensionPending');
    expect(countersOf({ ...base, status: 'accepted', extension: { until: '2099-01-01' } })).not.toContain('extensionPending');
  });

  it('keeps the counters through their stored signature', () => {
    const counters = countersOf({ ...base, status: 'returned', overdue: true, returns: 1 });
    expect(countersFromSignature(signatureOf(counters))).toEqual(counters);
    expect(countersFromSignature(null)).toEqual([]);
  });

  it('turns counts into the discipline figures, with open = neither done, withdrawn, in review nor overdue', () => {
    const counts = zeroCounts();
    for (const state of [
      { ...base, status: 'accepted' as const, acceptedLate: false },
      { ...base, status: 'accepted' as const, acceptedLate: true },
      { ...base, status: 'issued' as const, overdue: true },
      { ...base, status: 'issued' as const },
      { ...base, status: 'submitted' as const },
      { ...base, status: 'withdrawn' as const },
    ]) {
      sumInto(counts, Object.fromEntries(countersOf(state).map((c) => [c, 1])));
    }
    expect(disciplineOf(counts)).toEqual({ total: 6, issued: 5, onTime: 1, late: 1, overdue: 1, review: 1, open: 1, withdrawn: 1, returned: 0, discipline: 33 });
  });

  it('splits every assignment into exactly one part: the parts add up to the whole, whatever the states', () => {
    // Every combination of what a state holds, each once.
    const statuses = ['issued', 'submitted', 'returned', 'accepted', 'withdrawn'] as const;
    const counts = zeroCounts();
    let states = 0;
    for (const status of statuses)
      for (const overdue of [false, true])
        for (const acceptedLate of status === 'accepted' ? [false, true] : [null])
          for (const returns of [0, 2])
            for (const extension of [null, { until: '2099-01-01' }]) {
              sumInto(counts, Object.fromEntries(countersOf({ status, overdue, acceptedLate, returns, extension }).map((c) => [c, 1])));
              states += 1;
            }
    const f = disciplineOf(counts);
    expect(f.total).toBe(states);
    expect(Math.min(f.onTime, f.late, f.overdue, f.review, f.open, f.withdrawn)).toBeGreaterThan(0);
    expect(f.onTime + f.late + f.overdue + f.review + f.open).toBe(f.issued);
    expect(f.issued + f.withdrawn).toBe(f.total);
    expect(f.discipline).toBe(Math.round((f.onTime / (f.onTime + f.late + f.overdue)) * 100));
  });
});
