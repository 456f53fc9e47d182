import { assignmentId, assignmentWorkflowId, parseAssignmentId } from '../../domain/ids';

describe('business ids', () => {
  it('round-trips an assignment id and derives the workflow id from it', () => {
    const key = { recommendationId: 'AbC_12-xyz', organization: 'tomsk', cycle: 1 };
    const id = assignmentId(key);
    expect(id).toBe('AbC_12-xyz.tomsk.1');
    expect(parseAssignmentId(id)).toEqual(key);
    expect(assignmentWorkflowId(key)).toBe('assignment/AbC_12-xyz/tomsk/1');
  });

  it.each(['', 'short.tomsk.1', 'AbC_12-xyz.Tomsk.1', 'AbC_12-xyz.tomsk', '../etc/passwd', 'AbC_12-xyz.tomsk.1.2'])(
    'rejects the malformed id %p',
    (id) => {
      expect(parseAssignmentId(id)).toBeUndefined();
    },
  );
});
