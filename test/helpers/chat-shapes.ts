/**
 * What Slack and Teams accept, checked the way their APIs refuse a message: the problems a message
 * has, empty when it would be taken. Written from Slack's Block Kit reference and the Adaptive Card
 * 1.4 schema, with the limits as literal numbers (not Tollgate's own constants), so a renderer that
 * drifts past a limit is caught here.
 */

type Json = Record<string, any>;

function textObject(where: string, t: any, max: number, types: readonly string[] = ['plain_text', 'mrkdwn']): string[] {
  if (t === null || typeof t !== 'object') return [`${where}: not a text object`];
  const problems: string[] = [];
  if (!types.includes(t.type)) problems.push(`${where}: text type ${t.type} not in ${types.join('|')}`);
  if (typeof t.text !== 'string' || t.text.length === 0) problems.push(`${where}: empty text`);
  else if (t.text.length > max) problems.push(`${where}: ${t.text.length} characters > ${max}`);
  return problems;
}

/** Slack Block Kit: `text` fallback, at most 50 blocks, each with a known `type` and its own limits. */
export function slackProblems(msg: Json): string[] {
  const problems: string[] = [];
  if (typeof msg.text !== 'string' || msg.text.length === 0 || msg.text.length > 40_000) problems.push('text: missing or too long');
  if (!Array.isArray(msg.blocks) || msg.blocks.length === 0) return [...problems, 'blocks: missing'];
  if (msg.blocks.length > 50) problems.push(`blocks: ${msg.blocks.length} > 50`);
  msg.blocks.forEach((b: Json, i: number) => {
    const at = `blocks[${i}]`;
    switch (b.type) {
      case 'header':
        problems.push(...textObject(`${at}.text`, b.text, 150, ['plain_text']));
        break;
      case 'section':
        if (b.text === undefined && b.fields === undefined) problems.push(`${at}: a section needs text or fields`);
        if (b.text !== undefined) problems.push(...textObject(`${at}.text`, b.text, 3000));
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) problems.push(`${at}.fields: more than 10`);
          else b.fields.forEach((f: Json, j: number) => problems.push(...textObject(`${at}.fields[${j}]`, f, 2000)));
        }
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) problems.push(`${at}.elements: 1 to 10`);
        else b.elements.forEach((e: Json, j: number) => problems.push(...textObject(`${at}.elements[${j}]`, e, 3000)));
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) problems.push(`${at}.elements: 1 to 25`);
        else
          b.elements.forEach((e: Json, j: number) => {
            if (e.type !== 'button') problems.push(`${at}.elements[${j}]: type ${e.type}`);
            problems.push(...textObject(`${at}.elements[${j}].text`, e.text, 75, ['plain_text']));
            if (e.url !== undefined && (typeof e.url !== 'string' || e.url.length > 3000 || !/^https?:\/\//.test(e.url))) problems.push(`${at}.elements[${j}].url`);
          });
        break;
      default:
        problems.push(`${at}: type ${JSON.stringify(b.type)}`);
    }
  });
  return problems;
}

/** A Teams message: one Adaptive Card attachment, version 1.4, TextBlocks and FactSets, OpenUrl actions. */
export function teamsProblems(msg: Json): string[] {
  const problems: string[] = [];
  if (msg.type !== 'message') problems.push('type: not message');
  if (!Array.isArray(msg.attachments) || msg.attachments.length !== 1) return [...problems, 'attachments: not one'];
  const a = msg.attachments[0];
  if (a.contentType !== 'application/vnd.microsoft.card.adaptive') problems.push(`contentType ${a.contentType}`);
  const card = a.content ?? {};
  if (card.type !== 'AdaptiveCard' || card.version !== '1.4') problems.push('content: not an AdaptiveCard 1.4');
  if (!Array.isArray(card.body) || card.body.length === 0) return [...problems, 'body: missing'];
  card.body.forEach((b: Json, i: number) => {
    if (b.type === 'TextBlock') {
      if (typeof b.text !== 'string' || b.text.length === 0) problems.push(`body[${i}]: empty TextBlock`);
    } else if (b.type === 'FactSet') {
      if (!Array.isArray(b.facts) || b.facts.some((f: Json) => typeof f.title !== 'string' || typeof f.value !== 'string')) problems.push(`body[${i}]: bad facts`);
    } else problems.push(`body[${i}]: type ${b.type}`);
  });
  for (const [i, act] of (card.actions ?? []).entries()) {
    if (act.type !== 'Action.OpenUrl' || typeof act.title !== 'string' || !/^https?:\/\//.test(act.url)) problems.push(`actions[${i}]`);
  }
  if (JSON.stringify(msg).length > 28_000) problems.push('message over 28 KB');
  return problems;
}
