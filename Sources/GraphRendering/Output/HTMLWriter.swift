// Wraps an SVG drawing in a small HTML viewer: wheel zoom, drag pan, a search box that finds a
// node by id, name or op and centres it. Inline script only, no network; the SVG inside stays
// the static fallback when scripts are off.

/// The viewer around `svg`: a bar (search, fit), the stage, a side panel for the clicked box fed
/// by `details` (see `nodeDetails`), and `data-focus` naming the element the first view centres on.
func writeHTML(svg: String, options: RenderOptions, details: String = "{}", focus: String? = nil) -> String {
    let id = viewerElementID(svg)
    var h = ""
    h.reserveCapacity(svg.utf8.count + details.utf8.count + 9000)
    h += "<div id=\"\(id)\" class=\"gs-view\""
    if let focus { h += " data-focus=\"\(xmlEscape(focus))\"" }
    h += " style=\"border:1px solid #cfd8dc;border-radius:4px;font:12px Helvetica,Arial,sans-serif\">"
    h += "<div class=\"gs-bar\" style=\"padding:4px;background:#f5f7f9;border-bottom:1px solid #cfd8dc\">"
    h += "<input class=\"gs-q\" type=\"search\" placeholder=\"find node (id, name or op), Enter for next\" style=\"width:280px\"/> "
    h += "<button class=\"gs-fit\" type=\"button\">fit</button> <span class=\"gs-msg\" style=\"color:#607d8b\"></span>"
    h += "<span style=\"float:right;color:#90a4ae\">click a box for details</span></div>"
    h += "<div class=\"gs-main\" style=\"position:relative\">"
    h += "<div class=\"gs-stage\" style=\"height:\(options.viewerHeight)px;overflow:hidden;cursor:grab;background:#fff\">"
    h += svg
    h += "</div>"
    h += "<div class=\"gs-panel\" role=\"dialog\" style=\"display:none;position:absolute;top:0;right:0;bottom:0;width:340px;max-width:60%;"
    h += "overflow:auto;background:#fff;border-left:1px solid #b0bec5;box-shadow:-2px 0 6px rgba(0,0,0,.12);padding:8px 10px;box-sizing:border-box\">"
    h += "<button class=\"gs-close\" type=\"button\" title=\"close (Esc)\" style=\"float:right;border:none;background:none;font-size:18px;cursor:pointer\">&#215;</button>"
    h += "<div class=\"gs-panel-body\"></div></div>"
    // Overview of the whole drawing (the same SVG body, referenced, not copied) with the visible
    // window; shown whenever the view does not hold the whole drawing. Click or drag to move there.
    h += "<div class=\"gs-mini\" title=\"overview: click or drag to move the view\" style=\"display:none;position:absolute;left:8px;bottom:8px;"
    h += "border:1px solid #b0bec5;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.2);cursor:pointer;overflow:hidden\">"
    h += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" height=\"100%\" preserveAspectRatio=\"none\"><use/></svg>"
    h += "<div class=\"gs-mini-view\" style=\"position:absolute;border:1.5px solid #1e88e5;background:rgba(30,136,229,.12);pointer-events:none\"></div></div></div>"
    // CDATA keeps the fragment well-formed XML too (for XHTML consumers and validators); the
    // JSON has `<`, `>` and `&` escaped, so it needs no CDATA.
    h += "<script type=\"application/json\" class=\"gs-data\">" + details + "</script>"
    h += "<script>//<![CDATA[\n" + viewerScript(id) + "\n//]]></script></div>"
    return h
}

/// The viewer element's `id` for a drawing.
func viewerElementID(_ svg: String) -> String { idPrefix(for: svg) + "v" }

/// Lays out two drawings side by side in one SVG (e.g. before/after a rewrite), each keeping
/// its own ids and legend. Titles go above each half.
public func sideBySideSVG(_ left: RenderResult, _ right: RenderResult, titles: (String, String)) -> String {
    let lw = max(left.layout.width, 360), rw = max(right.layout.width, 360)
    func dims(_ svg: String) -> (Double, Double) {
        // Read width/height back from the root element we wrote.
        func attr(_ name: String) -> Double {
            guard let r = svg.range(of: " \(name)=\"") else { return 0 }
            let rest = svg[r.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { return 0 }
            return Double(rest[..<end]) ?? 0
        }
        return (attr("width"), attr("height"))
    }
    let (w1, h1) = dims(left.svg), (w2, h2) = dims(right.svg)
    let width = max(w1, lw) + max(w2, rw) + 24
    let height = max(h1, h2) + 24
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(num(width))\" height=\"\(num(height))\" viewBox=\"0 0 \(num(width)) \(num(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">"
    s += "<text x=\"4\" y=\"16\" font-weight=\"bold\">\(xmlEscape(titles.0))</text>"
    s += "<text x=\"\(num(max(w1, lw) + 28))\" y=\"16\" font-weight=\"bold\">\(xmlEscape(titles.1))</text>"
    s += "<g transform=\"translate(0,24)\">" + left.svg + "</g>"
    s += "<g transform=\"translate(\(num(max(w1, lw) + 24)),24)\">" + right.svg + "</g></svg>"
    return s
}

/// The viewer script. It binds to the viewer it sits in (the same drawing shown twice on a page
/// has the same element id, so the id is only the fallback) and only once. It rewrites the SVG's
/// `viewBox` (the drawing's visible window, in drawing units), always with the stage's aspect so
/// the window is exactly what shows: fit shows the whole drawing in both dimensions; the first
/// view centres `data-focus` (a `show PATH`; a node's details open too), else fits, unless fitting would make boxes unreadable,
/// then it shows the top (or left) end at 1:1; the wheel zooms about the pointer (1.15x per 100 px
/// of wheel delta, so touchpads are not jumpy); a drag pans; a click (no drag) on a box opens the
/// side panel from the JSON block, closed by its button or Escape; the SVG's size is set inline,
/// because JupyterLab's `.jp-RenderedHTMLCommon svg {height: auto}` would otherwise size it by
/// the viewBox's aspect and push most of a tall drawing out of the stage; the search matches id, model
/// name and op, and centres the hit's box (its last rect: a collapsed group's first is the shadow).
/// Problem lines (`x`) lead the panel in the severity's colour. `root.gsFocus(id)` centres and
/// opens a node (or group) by id; when the viewer sits in a `.gs-report` (the `check` output),
/// a click on any `a[data-gs-node]` link there focuses that node and scrolls the viewer into view.
private func viewerScript(_ id: String) -> String {
    return """
(function(){var me=document.currentScript,root=me&&me.parentNode&&me.parentNode.classList&&me.parentNode.classList.contains('gs-view')?me.parentNode:null;
if(!root){var all=document.querySelectorAll('.gs-view[id="\(id)"]');for(var i=all.length-1;i>=0&&!root;i--)if(!all[i].gsOn)root=all[i];}
if(!root||root.gsOn)return;root.gsOn=true;var stage=root.querySelector('.gs-stage');
var svg=stage.querySelector('svg');if(!svg)return;var W=+svg.getAttribute('width'),H=+svg.getAttribute('height');
svg.setAttribute('width','100%');svg.setAttribute('height','100%');svg.setAttribute('preserveAspectRatio','xMidYMid meet');
svg.style.cssText+=';width:100%;height:100%;max-width:none;display:block';
var vb={x:0,y:0,w:W,h:H},mini=root.querySelector('.gs-mini'),body=svg.querySelector('.gs-body'),mk=0;
if(mini&&body&&body.id&&W>0&&H>0&&svg.querySelectorAll('.gs-node,.gs-group').length<=4000){mk=Math.min(200/W,130/H);
mini.style.width=Math.max(24,W*mk)+'px';mini.style.height=Math.max(24,H*mk)+'px';var ms=mini.querySelector('svg');ms.setAttribute('viewBox','0 0 '+W+' '+H);
ms.querySelector('use').setAttribute('href','#'+body.id);var mv=null;
function moveTo(e){var r=mini.getBoundingClientRect();vb.x=(e.clientX-r.left)/mk-vb.w/2;vb.y=(e.clientY-r.top)/mk-vb.h/2;apply();}
mini.addEventListener('pointerdown',function(e){mv=true;mini.setPointerCapture(e.pointerId);moveTo(e);});
mini.addEventListener('pointermove',function(e){if(mv)moveTo(e);});mini.addEventListener('pointerup',function(){mv=null;});}else mini=null;
function apply(){svg.setAttribute('viewBox',vb.x+' '+vb.y+' '+vb.w+' '+vb.h);if(!mini)return;
var all=vb.x<=1&&vb.y<=1&&vb.x+vb.w>=W-1&&vb.y+vb.h>=H-1;mini.style.display=all?'none':'block';if(all)return;
var v=mini.querySelector('.gs-mini-view').style,x0=Math.max(0,vb.x),y0=Math.max(0,vb.y),x1=Math.min(W,vb.x+vb.w),y1=Math.min(H,vb.y+vb.h);
v.left=(x0*mk)+'px';v.top=(y0*mk)+'px';v.width=Math.max(2,(x1-x0)*mk)+'px';v.height=Math.max(2,(y1-y0)*mk)+'px';}
function size(){var r=stage.getBoundingClientRect();return r.width>0&&r.height>0?r:null;}
function show(cx,cy,s){var r=size();if(!r){vb={x:0,y:0,w:W,h:H};apply();return;}vb={x:cx-r.width*s/2,y:cy-r.height*s/2,w:r.width*s,h:r.height*s};apply();}
function fitRect(x,y,w,h,pad){var r=size();if(!r){vb={x:x,y:y,w:w,h:h};apply();return;}show(x+w/2,y+h/2,Math.max((w+2*pad)/r.width,(h+2*pad)/r.height));}
function fit(){fitRect(0,0,W,H,4);}
function boxOf(g){var rs=g.querySelectorAll('rect'),e=rs.length?rs[rs.length-1]:g;var b=e.getBBox(),m=e.getCTM(),sm=svg.getCTM();
var a=svg.createSVGPoint(),c=svg.createSVGPoint();a.x=b.x;a.y=b.y;c.x=b.x+b.width;c.y=b.y+b.height;
if(m&&sm){var t=sm.inverse().multiply(m);a=a.matrixTransform(t);c=c.matrixTransform(t);}return {x:a.x,y:a.y,w:c.x-a.x,h:c.y-a.y};}
function readable(x,y,w,h){var r=size();if(!r){fit();return;}var pad=16,s=Math.max((w+2*pad)/r.width,(h+2*pad)/r.height);
if(s<=2){show(x+w/2,y+h/2,Math.max(s,1/1.5));return;}
var tall=h/r.height>=w/r.width;vb={x:tall&&w<=r.width?x+w/2-r.width/2:x-pad,y:!tall&&h<=r.height?y+h/2-r.height/2:y-pad,w:r.width,h:r.height};apply();}
function start(){var f=root.getAttribute('data-focus'),el=null;
if(f)svg.querySelectorAll('.gs-frame,.gs-node,.gs-group').forEach(function(g){if(!el&&g.getAttribute('data-id')===f)el=g;});
if(el){var b=boxOf(el);readable(b.x,b.y,b.w,b.h);if(el.classList.contains('gs-node'))open(el);return;}readable(0,0,W,H);}
function scale(){var r=stage.getBoundingClientRect();return Math.max(vb.w/r.width,vb.h/r.height);}
stage.addEventListener('wheel',function(e){e.preventDefault();var r=stage.getBoundingClientRect(),s=scale();
var mx=vb.x+(e.clientX-r.left-(r.width-vb.w/s)/2)*s,my=vb.y+(e.clientY-r.top-(r.height-vb.h/s)/2)*s;
var d=e.deltaY*(e.deltaMode===1?33:e.deltaMode===2?400:1);var f=Math.pow(1.15,Math.max(-5,Math.min(5,d/100)));
vb.x=mx-(mx-vb.x)*f;vb.y=my-(my-vb.y)*f;vb.w*=f;vb.h*=f;apply();},{passive:false});
var drag=null;stage.addEventListener('pointerdown',function(e){var t=e.target&&e.target.closest?e.target.closest('.gs-node,.gs-group'):null;
drag={x:e.clientX,y:e.clientY,vx:vb.x,vy:vb.y,s:scale(),target:t,moved:false};stage.setPointerCapture(e.pointerId);stage.style.cursor='grabbing';});
stage.addEventListener('pointermove',function(e){if(!drag)return;if(Math.abs(e.clientX-drag.x)+Math.abs(e.clientY-drag.y)>3)drag.moved=true;
vb.x=drag.vx-(e.clientX-drag.x)*drag.s;vb.y=drag.vy-(e.clientY-drag.y)*drag.s;apply();});
stage.addEventListener('pointerup',function(){var d=drag;drop();if(d&&!d.moved&&d.target)open(d.target);});
function drop(){drag=null;stage.style.cursor='grab';}stage.addEventListener('pointercancel',drop);
var panel=root.querySelector('.gs-panel'),body=root.querySelector('.gs-panel-body'),data=null,sel=null;
function details(){if(!data){try{data=JSON.parse(root.querySelector('.gs-data').textContent);}catch(x){}data=data||{};data.nodes=data.nodes||{};data.groups=data.groups||{};}return data;}
function el(tag,text,css){var e=document.createElement(tag);e.textContent=text;if(css)e.style.cssText=css;body.appendChild(e);return e;}
function part(title,items,ink){if(!items||!items.length)return;el('div',title,'margin-top:8px;font-weight:bold;color:'+(ink||'#455a64'));
items.forEach(function(t){el('div',t,'font-family:monospace;font-size:11px;word-break:break-all;padding-left:8px'+(ink?';color:'+ink:''));});}
function problems(x){if(x.x)part('problems',x.x,x.xs==='error'?'#c62828':'#e65100');}
function open(g){var id=g.getAttribute('data-id'),d=details(),group=g.classList.contains('gs-group');body.textContent='';
if(group){var gi=d.groups[id]||{n:id,c:g.getAttribute('data-count')};el('div',gi.n,'font-weight:bold;font-size:14px;word-break:break-all');problems(gi);
part('path',['/'+id]);part('nodes',[String(gi.c)]);if(gi.s)part('holds',[gi.s]);if(gi.v!=null)part(d.overlay||'overlay',[gi.v]);part('open it',['show '+id]);}
else{var n=d.nodes[id]||{o:g.getAttribute('data-op'),n:g.getAttribute('data-name')||id};el('div',n.o,'font-weight:bold;font-size:14px');
el('div',n.n,'word-break:break-all;color:#37474f');problems(n);part('path',['/'+(n.p?n.p+'/':'')+n.n.split('/').pop()]);
part('attributes',(n.a||[]).map(function(a){return a[0]+' = '+a[1];}));part('inputs',n.i);part('weights and constants',n.w);part('outputs',n.u);
if(n.v!=null)part(d.overlay||'overlay',[n.v]);}
if(sel)sel.classList.remove('gs-sel');sel=g;g.classList.add('gs-sel');panel.style.display='block';root.setAttribute('data-selected',id);}
function close(){panel.style.display='none';if(sel)sel.classList.remove('gs-sel');sel=null;root.removeAttribute('data-selected');}
root.querySelector('.gs-close').addEventListener('click',close);
document.addEventListener('keydown',function(e){if(e.key==='Escape'&&panel.style.display!=='none')close();});
var q=root.querySelector('.gs-q'),msg=root.querySelector('.gs-msg'),hits=[],at=-1,last='';
function find(){var t=q.value.trim().toLowerCase();if(!t){msg.textContent='';return;}
if(t!==last){last=t;at=-1;hits=[];svg.querySelectorAll('.gs-node,.gs-group').forEach(function(g){
var k=['data-id','data-name','data-op'].map(function(a){return g.getAttribute(a)||'';}).join(' ').toLowerCase();if(k.indexOf(t)>=0)hits.push(g);});}
svg.querySelectorAll('.gs-found').forEach(function(g){g.classList.remove('gs-found');});
if(!hits.length){msg.textContent='no match';return;}at=(at+1)%hits.length;var g=hits[at];g.classList.add('gs-found');
var b=boxOf(g),r=size();show(b.x+b.w/2,b.y+b.h/2,r?Math.max(b.w*6,r.width/1.5)/r.width:1);msg.textContent=(at+1)+' of '+hits.length+': '+g.getAttribute('data-id');}
q.addEventListener('keydown',function(e){if(e.key==='Enter')find();});
function focusNode(id){var t=null;svg.querySelectorAll('.gs-node,.gs-group,.gs-frame').forEach(function(g){if(!t&&g.getAttribute('data-id')===id)t=g;});
if(!t){msg.textContent=id+' is not in this drawing';return false;}svg.querySelectorAll('.gs-found').forEach(function(g){g.classList.remove('gs-found');});
var b=boxOf(t);readable(b.x,b.y,b.w,b.h);if(t.classList.contains('gs-frame'))close();else open(t);t.classList.add('gs-found');
root.setAttribute('data-focused',id);msg.textContent=(t.getAttribute('data-name')||id)+(t.getAttribute('data-problem')?' ('+t.getAttribute('data-problem')+')':'');return true;}
root.gsFocus=focusNode;var host=root.parentNode;
if(host&&host.classList&&host.classList.contains('gs-report'))host.addEventListener('click',function(e){var a=e.target&&e.target.closest?e.target.closest('a[data-gs-node]'):null;
if(!a||!host.contains(a))return;e.preventDefault();if(focusNode(a.getAttribute('data-gs-node'))&&root.scrollIntoView)root.scrollIntoView({block:'nearest'});});root.querySelector('.gs-fit').addEventListener('click',fit);start();})();
"""
}
