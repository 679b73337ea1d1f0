/**
 * Sets one field of a YAML file and keeps the rest of it as written: comments, key order, quoting,
 * anchors. Through the `yaml` package's Document API (its concrete syntax tree), not a parse and a
 * dump, which would drop every comment of a Helm values file.
 */
import { isMap, isScalar, isSeq, parse, parseDocument, type Scalar } from 'yaml';

/**
 * `text` with the field at `path` (`image.tag`, `images.0.newTag`: map keys and list indexes joined
 * by ".") set to `value`. A missing map key on the way is added; an index past a list's end, or a
 * step into something that is not a map or a list, is an error naming the path so far. A scalar that
 * is there keeps its style (a quoted tag stays quoted).
 */
export function setYamlField(text: string, path: string, value: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const segments = path.split('.');
  const keys: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (const [i, seg] of segments.entries()) {
    const here = segments.slice(0, i).join('.') || 'the document';
    if (isSeq(node)) {
      if (!/^\d+$/.test(seg) || Number(seg) >= node.items.length) {
        throw new Error(`${here} is a list of ${node.items.length}: "${seg}" is not an index in it`);
      }
      keys.push(Number(seg));
    } else if (isMap(node) || node === null || node === undefined) {
      keys.push(seg);
    } else {
      throw new Error(`${here} is a plain value, not a map or a list: cannot set ${path} inside it`);
    }
    node = node === null || node === undefined ? undefined : doc.getIn(keys, true);
  }
  if (isScalar(node)) {
    // The value is replaced in the text itself, so every other byte stays as it was (the spacing
    // before a comment too, which printing the document again would normalize).
    const spliced = spliceScalar(text, node, keys, value);
    if (spliced !== undefined) return spliced;
    node.value = value;
  } else if (node !== undefined && node !== null) {
    throw new Error(`${path} is a map or a list, not a plain value: name a field inside it`);
  } else {
    doc.setIn(keys, value);
  }
  // No folding of long lines: a digest or a URL stays on its line.
  return doc.toString({ lineWidth: 0 });
}

/**
 * `text` with the scalar's source replaced by `value` written in the scalar's own style (plain,
 * single or double quoted); undefined for a block scalar or a node without a source range, which
 * the document then prints.
 */
function spliceScalar(text: string, node: Scalar, keys: readonly (string | number)[], value: string): string | undefined {
  const range = node.range;
  if (!range) return undefined;
  const [start, end] = range;
  let written: string;
  if (node.type === 'QUOTE_DOUBLE') written = JSON.stringify(value);
  else if (node.type === 'QUOTE_SINGLE') written = `'${value.replace(/'/g, "''")}'`;
  else if (node.type === 'PLAIN') {
    // Plain only when it reads back as the same string under YAML 1.2 and 1.1 alike (`1.10` is a
    // number, `yes` a boolean to a YAML 1.1 reader such as many Kubernetes tools): else quoted.
    const plain = /^[A-Za-z0-9_./@:+-]+$/.test(value) && !/^[-?:]/.test(value) && parse(value) === value && parse(value, { version: '1.1' }) === value;
    written = plain ? value : JSON.stringify(value);
  } else return undefined;
  const out = text.slice(0, start) + written + text.slice(end);
  // The edit must read back as exactly that one change.
  const check = parseDocument(out);
  return check.errors.length === 0 && check.getIn(keys) === value ? out : undefined;
}
