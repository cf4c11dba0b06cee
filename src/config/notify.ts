import { z } from 'zod';

/**
 * `notify:` — who hears about an unattended run (issue 22). Top-level only: a portfolio
 * run sends one message per destination for all its targets.
 *
 * A webhook URL carries its own credentials (Google Chat's `key` and `token` query
 * parameters, Slack's path), so no check here ever echoes the value it was given: every
 * refusal is a custom issue, which config/problems.ts prints without the input.
 */

export const NOTIFY_FORMATS = ['google_chat', 'slack', 'json'] as const;
export const NOTIFY_EVENTS = ['failed', 'errors', 'invalid', 'finished'] as const;
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number];
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

const webhookUrl = z.string({ error: 'expected the webhook URL (a text; put it in an environment variable: url: ${MY_WEBHOOK})' }).superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    ctx.addIssue({ code: 'custom', message: 'expected an http(s) URL (the incoming webhook URL Google Chat or Slack gave you, or your receiver\'s); the value is not shown since a webhook URL is a credential' });
  }
});

const envName = z.string({ error: 'expected the name of an environment variable' }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable (letters, digits and _), not the secret itself');

export const notifyDestinationSchema = z
  .strictObject({
    url: webhookUrl,
    format: z.enum(NOTIFY_FORMATS, { error: `expected one of: ${NOTIFY_FORMATS.join(', ')}` }),
    on: z
      .array(z.enum(NOTIFY_EVENTS, { error: `expected one of: ${NOTIFY_EVENTS.join(', ')}` }), { error: `expected a list of events, e.g. [failed, errors, invalid] (one of: ${NOTIFY_EVENTS.join(', ')})` })
      .min(1, `expected at least one event (one of: ${NOTIFY_EVENTS.join(', ')})`)
      .default(['failed', 'errors']),
    /** json only: the environment variable holding the HMAC-SHA256 key the body is signed with. */
    secret_env: envName.optional(),
  })
  .superRefine((destination, ctx) => {
    if (destination.format === 'json' && destination.secret_env === undefined) {
      ctx.addIssue({ code: 'custom', path: ['secret_env'], message: 'required for format json: the environment variable holding the key the body is signed with (X-Status-Validator-Signature), e.g. STATUS_VALIDATOR_WEBHOOK_SECRET' });
    }
    if (destination.format !== 'json' && destination.secret_env !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['secret_env'], message: `only format json is signed: ${destination.format} webhooks carry their credentials in the URL; remove secret_env` });
    }
  });

export const notifySchema = z.array(notifyDestinationSchema, { error: 'expected a list of destinations, each with url, format and on' }).default([]);

export type NotifyDestination = z.infer<typeof notifyDestinationSchema>;
