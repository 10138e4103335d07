// Wraps an SVG drawing in a small HTML viewer: wheel zoom, drag pan, a search box that finds a
// node by id, name or op and centres it. Inline script only, no network; the SVG inside stays
// the static fallback when scripts are off.

func writeHTML(svg: String, options: RenderOptions) -> String {
    let id = idPrefix(for: svg) + "v"
    var h = ""
    h.reserveCapacity(svg.utf8.count + 4000)
    h += "<div id=\"\(id)\" class=\"gs-view\" style=\"border:1px solid #cfd8dc;border-radius:4px;font:12px Helvetica,Arial,sans-serif\">"
    h += "<div class=\"gs-bar\" style=\"padding:4px;background:#f5f7f9;border-bottom:1px solid #cfd8dc\">"
    h += "<input class=\"gs-q\" type=\"search\" placeholder=\"find node (id, name or op), Enter for next\" style=\"width:280px\"/> "
    h += "<button class=\"gs-fit\" type=\"button\">fit</button> <span class=\"gs-msg\" style=\"color:#607d8b\"></span></div>"
    h += "<div class=\"gs-stage\" style=\"height:\(options.viewerHeight)px;overflow:hidden;cursor:grab;background:#fff\">"
    h += svg
    // CDATA keeps the fragment well-formed XML too (for XHTML consumers and validators).
    h += "</div><script>//<![CDATA[\n" + viewerScript(id) + "\n//]]></script></div>"
    return h
}

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
/// has the same element id, so the id is only the fallback) and only once. It only rewrites the SVG's `viewBox` (the drawing's visible window, in
/// drawing units): fit shows everything; the first view of a very tall or wide drawing is its
/// top (or left) end at a readable scale instead of a sliver; the wheel zooms about the pointer
/// (1.15x per 100 px of wheel delta, so touchpads are not jumpy); a drag pans; the search
/// matches id, model name and op, and centres the hit's box (its last rect: a collapsed group's
/// first rect is the shadow) at a readable zoom with the stage's aspect.
private func viewerScript(_ id: String) -> String {
    return """
(function(){var me=document.currentScript,root=me&&me.parentNode&&me.parentNode.classList&&me.parentNode.classList.contains('gs-view')?me.parentNode:null;\
if(!root){var all=document.querySelectorAll('.gs-view[id="\(id)"]');for(var i=all.length-1;i>=0&&!root;i--)if(!all[i].gsOn)root=all[i];}\
if(!root||root.gsOn)return;root.gsOn=true;var stage=root.querySelector('.gs-stage');\
var svg=stage.querySelector('svg');if(!svg)return;var W=+svg.getAttribute('width'),H=+svg.getAttribute('height');\
svg.setAttribute('width','100%');svg.setAttribute('height','100%');svg.setAttribute('preserveAspectRatio','xMidYMid meet');\
var vb={x:0,y:0,w:W,h:H};function apply(){svg.setAttribute('viewBox',vb.x+' '+vb.y+' '+vb.w+' '+vb.h);}\
function fit(){vb={x:0,y:0,w:W,h:H};apply();}\
function start(){var r=stage.getBoundingClientRect();if(!(r.width>0&&r.height>0&&W>0&&H>0)){fit();return;}\
var f=Math.min(r.width/W,r.height/H),s=Math.min(1,Math.max(r.width/W,r.height/H));if(f>=0.5*s){fit();return;}\
var w=r.width/s,h=r.height/s;vb={x:H>W?(W-w)/2:0,y:H>W?0:(H-h)/2,w:w,h:h};apply();}\
function scale(){var r=stage.getBoundingClientRect();return Math.max(vb.w/r.width,vb.h/r.height);}\
stage.addEventListener('wheel',function(e){e.preventDefault();var r=stage.getBoundingClientRect(),s=scale();\
var mx=vb.x+(e.clientX-r.left-(r.width-vb.w/s)/2)*s,my=vb.y+(e.clientY-r.top-(r.height-vb.h/s)/2)*s;\
var d=e.deltaY*(e.deltaMode===1?33:e.deltaMode===2?400:1);var f=Math.pow(1.15,Math.max(-5,Math.min(5,d/100)));\
vb.x=mx-(mx-vb.x)*f;vb.y=my-(my-vb.y)*f;vb.w*=f;vb.h*=f;apply();},{passive:false});\
var drag=null;stage.addEventListener('pointerdown',function(e){drag={x:e.clientX,y:e.clientY,vx:vb.x,vy:vb.y,s:scale()};\
stage.setPointerCapture(e.pointerId);stage.style.cursor='grabbing';});\
stage.addEventListener('pointermove',function(e){if(!drag)return;vb.x=drag.vx-(e.clientX-drag.x)*drag.s;vb.y=drag.vy-(e.clientY-drag.y)*drag.s;apply();});\
function drop(){drag=null;stage.style.cursor='grab';}stage.addEventListener('pointerup',drop);stage.addEventListener('pointercancel',drop);\
var q=root.querySelector('.gs-q'),msg=root.querySelector('.gs-msg'),hits=[],at=-1,last='';\
function find(){var t=q.value.trim().toLowerCase();if(!t){msg.textContent='';return;}\
if(t!==last){last=t;at=-1;hits=[];svg.querySelectorAll('.gs-node,.gs-group').forEach(function(g){\
var k=['data-id','data-name','data-op'].map(function(a){return g.getAttribute(a)||'';}).join(' ').toLowerCase();if(k.indexOf(t)>=0)hits.push(g);});}\
svg.querySelectorAll('.gs-found').forEach(function(g){g.classList.remove('gs-found');});\
if(!hits.length){msg.textContent='no match';return;}at=(at+1)%hits.length;var g=hits[at];g.classList.add('gs-found');\
var rs=g.querySelectorAll('rect'),e=rs.length?rs[rs.length-1]:g;var b=e.getBBox(),m=e.getCTM(),sm=svg.getCTM();var p=svg.createSVGPoint();p.x=b.x+b.width/2;p.y=b.y+b.height/2;\
if(m&&sm){p=p.matrixTransform(sm.inverse().multiply(m));}var r=stage.getBoundingClientRect();\
var ok=r.width>0&&r.height>0,w=Math.max(b.width*6,ok?r.width/1.5:400),h=ok?w*r.height/r.width:w*H/W;\
vb={x:p.x-w/2,y:p.y-h/2,w:w,h:h};apply();msg.textContent=(at+1)+' of '+hits.length+': '+g.getAttribute('data-id');}\
q.addEventListener('keydown',function(e){if(e.key==='Enter')find();});root.querySelector('.gs-fit').addEventListener('click',fit);start();})();
"""
}
