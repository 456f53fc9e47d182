import { inBucketOrder } from '../../store/tallies';

describe('inBucketOrder', () => {
  it('orders buckets by due day, then by slice as a number', () => {
    const keys = ['2026-12-05#0', '2026-12-04#10', '2026-12-04#9', '2027-01-01#3', '2026-12-04#0', '2026-11-30#15'];
    expect(inBucketOrder(keys, (k) => k)).toEqual(['2026-11-30#15', '2026-12-04#0', '2026-12-04#9', '2026-12-04#10', '2026-12-05#0', '2027-01-01#3']);
  });

  it('keeps the items themselves and leaves its input as it was', () => {
    const items = [{ bucket: '2026-12-04#2', n: 1 }, { bucket: '2026-12-04#1', n: 2 }];
    const ordered = inBucketOrder(items, (i) => i.bucket);
    expect(ordered.map((i) => i.n)).toEqual([2, 1]);
    expect(ordered[0]).toBe(items[1]);
    expect(items.map((i) => i.n)).toEqual([1, 2]);
  });
});
