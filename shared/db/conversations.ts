/**
 * The assistant's conversation memory: one item per conversation under its owner's partition, so a conversation
 * id of another user is simply not found. The item keeps only the most recent messages (what the model is sent)
 * and expires some days after its last turn.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../http/errors.ts';
import { documentClient, expiresIn, getItem, isConditionFailure, tableName } from './client.ts';

export interface ConversationMessage {
  readonly role: 'user' | 'assistant';
  readonly text: string;
  readonly at: string;
}

export interface Conversation {
  readonly id: string;
  readonly userId: string;
  readonly messages: readonly ConversationMessage[];
  /** Turns answered since the conversation started, including ones no longer kept. */
  readonly turns: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Bumped on every write; a write from a stale read fails instead of losing a turn. */
  readonly version: number;
}

/** Messages kept per conversation (the assistant is sent at most this many earlier messages). */
export const MAX_STORED_MESSAGES = 20;
/** A conversation is forgotten this long after its last turn. */
export const CONVERSATION_TTL_DAYS = 30;

const conversationKey = (userId: string, conversationId: string) => ({ pk: `USER#${userId}`, sk: `CONVERSATION#${conversationId}` });

/** A new, unsaved conversation of `userId`. */
export function newConversation(userId: string, now = new Date()): Conversation {
  const at = now.toISOString();
  return { id: randomUUID(), userId, messages: [], turns: 0, createdAt: at, updatedAt: at, version: 0 };
}

/** A conversation of `userId`; another user's id, an expired one and a missing one all answer 404. */
export async function getConversation(userId: string, conversationId: string): Promise<Conversation> {
  const item = await getItem<Conversation>(conversationKey(userId, conversationId), { consistent: true });
  if (!item) throw new NotFoundError('Conversation not found');
  return { id: item.id, userId: item.userId, messages: item.messages, turns: item.turns, createdAt: item.createdAt, updatedAt: item.updatedAt, version: item.version };
}

/**
 * Append one answered turn (the user's message and the reply) and keep the last {@link MAX_STORED_MESSAGES}.
 * Conditional on the version read, so two turns racing on one conversation cannot overwrite each other: the
 * later one answers 409 and writes nothing.
 */
export async function appendConversationTurn(
  conversation: Conversation,
  turn: { readonly message: string; readonly reply: string },
  now = new Date(),
): Promise<Conversation> {
  const at = now.toISOString();
  const messages = [...conversation.messages, { role: 'user' as const, text: turn.message, at }, { role: 'assistant' as const, text: turn.reply, at }].slice(
    -MAX_STORED_MESSAGES,
  );
  const next: Conversation = { ...conversation, messages, turns: conversation.turns + 1, updatedAt: at, version: conversation.version + 1 };
  try {
    await documentClient.send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...conversationKey(conversation.userId, conversation.id),
          ...next,
          entity: 'Conversation',
          expiresAt: expiresIn(CONVERSATION_TTL_DAYS * 86_400, now.getTime()),
        },
        ConditionExpression: conversation.version === 0 ? 'attribute_not_exists(pk)' : '#v = :v',
        ...(conversation.version === 0 ? {} : { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': conversation.version } }),
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new ConflictError('The conversation changed meanwhile; send the message again', 'CONVERSATION_CHANGED');
    throw error;
  }
  return next;
}
