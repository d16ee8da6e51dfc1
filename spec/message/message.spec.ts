import {
  isSystemMessageType,
  MessageType,
  SYSTEM_MESSAGE_TYPES,
} from '../../lib/message/message.js';

describe('MessageType', () => {
  it('maps every name to the same string (the protobuf enum name, reference §1.6)', () => {
    for (const [name, value] of Object.entries(MessageType)) expect(value).toBe(name);
  });

  it('has the API names', () => {
    expect(MessageType.TimeTick).toBe('TimeTick');
    expect(MessageType.Insert).toBe('Insert');
    expect(MessageType.Delete).toBe('Delete');
    expect(MessageType.BeginTxn).toBe('BeginTxn');
    expect(MessageType.CommitTxn).toBe('CommitTxn');
    expect(MessageType.RollbackTxn).toBe('RollbackTxn');
    expect(MessageType.Txn).toBe('Txn');
  });
});

describe('system message types (reference §1.6)', () => {
  it('are exactly TimeTick, BeginTxn, CommitTxn, RollbackTxn, Txn', () => {
    expect([...SYSTEM_MESSAGE_TYPES].sort()).toEqual(
      ['BeginTxn', 'CommitTxn', 'RollbackTxn', 'TimeTick', 'Txn'].sort(),
    );
  });

  it.each(['TimeTick', 'BeginTxn', 'CommitTxn', 'RollbackTxn', 'Txn'])(
    '%s is a system type',
    (type) => {
      expect(isSystemMessageType(type)).toBe(true);
    },
  );

  it.each([
    'Insert',
    'Delete',
    'Flush',
    'CreateCollection',
    'AlterReplicateConfig',
    'MyCustomType',
    'timetick',
    '',
  ])('%p is not a system type', (type) => {
    expect(isSystemMessageType(type)).toBe(false);
  });
});
