// A small built-in list of common public suffixes with two or more labels (every single label is
// refused anyway: a custom domain needs at least two). It is NOT the full Public Suffix List: a
// rare suffix missing here can be claimed, but still only by whoever can publish the TXT record
// under it, so the list guards against mistakes and obvious squatting, not against an attacker
// who controls a registry. Swap in the full list (e.g. `tldts`, offline) if that ever matters.
const SUFFIXES = `
co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk sch.uk nhs.uk
com.au net.au org.au edu.au gov.au id.au asn.au
co.nz org.nz net.nz ac.nz govt.nz
co.jp ne.jp or.jp ac.jp go.jp gr.jp
co.kr or.kr ne.kr ac.kr go.kr
com.br net.br org.br gov.br
com.cn net.cn org.cn gov.cn edu.cn
com.tw org.tw net.tw com.hk org.hk net.hk com.sg org.sg net.sg
co.in net.in org.in firm.in gen.in ind.in
co.za org.za web.za
com.tr net.tr org.tr com.mx org.mx com.ar com.co com.pe com.ve
co.il org.il com.pl net.pl org.pl co.id or.id com.my com.ph com.vn co.th in.th
com.ua org.ua com.ru org.ru net.ru msk.ru spb.ru
co.uz com.uz net.uz org.uz
com.kz org.kz com.az com.ge com.eg com.sa com.pk com.ng com.bd com.np
github.io gitlab.io herokuapp.com netlify.app vercel.app pages.dev workers.dev web.app
firebaseapp.com appspot.com azurewebsites.net cloudfront.net amazonaws.com s3.amazonaws.com
blogspot.com wordpress.com fly.dev onrender.com glitch.me ngrok.io ngrok-free.app
duckdns.org no-ip.org dyndns.org ddns.net
`;

export const PUBLIC_SUFFIXES: ReadonlySet<string> = new Set(SUFFIXES.split(/\s+/).filter(Boolean));

/** Special-use top-level names (RFC 6761 and friends): never routable as a customer's domain. */
export const RESERVED_TLDS: ReadonlySet<string> = new Set(['localhost', 'local', 'test', 'invalid', 'example', 'internal', 'onion', 'arpa', 'lan', 'home', 'corp', 'localdomain']);
